"""The audit log: administrative actions and every view or download of a report."""
