"""The reports the owner reads, prints and downloads: sales (the I-CRM three: half a year per
team, a product's purchase history, who should buy again), stays (occupancy per month) and
attendance (per child per month). Queries only; the reports page words and files them."""
