"""A district's organisation file: loaded, checked against the policy, versioned."""
