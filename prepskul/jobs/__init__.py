"""The worker and one thin handler per job kind (the queue itself is `prepskul.queue`)."""
