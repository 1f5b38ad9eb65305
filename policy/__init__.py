"""Reading, merging and checking the policy file."""
