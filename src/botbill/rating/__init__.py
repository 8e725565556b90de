"""Rating: turning completed billing sessions and seat-days into charges on the balance."""
