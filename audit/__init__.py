"""What auditors need: archives of closed cases, the ledger check, replay, assessment."""
