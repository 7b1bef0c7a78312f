"""Mail the app sends, queued so that a failed send is retried and never lost."""
