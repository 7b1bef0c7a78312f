"""Values frameworks: values, behaviour statements and their rating scale, as data."""
