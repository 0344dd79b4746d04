"""Double-entry accounts for money (fen) and points: budgets, wallets, payouts."""
