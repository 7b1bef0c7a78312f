"""The whole-cycle analysis engine behind `feedback360.reports.analysis`: arrays in, arrays out."""
