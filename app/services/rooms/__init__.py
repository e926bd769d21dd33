"""A homestay's rooms over the days: the calendar grid, closures and blocks, iCal both ways."""
