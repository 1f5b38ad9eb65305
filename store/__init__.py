"""The SQL side: engine, projection writes and reads."""
