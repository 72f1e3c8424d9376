"""The double-entry points ledger, earning rules, outlets, goods and redemptions."""
