"""The home page's figures, in one place: the owner's summary (dashboard), the front desk's
day (my_day), the teacher's Today board (today_board) and a homestay's day (homestay_day)."""
