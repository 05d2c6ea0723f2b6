"""Delivery by SMTP with a ledger, so that an issue reaches each subscriber once, even across crashes."""
