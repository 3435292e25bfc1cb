"""Commerce: prices, coupons, orders and payments (API §14)."""
