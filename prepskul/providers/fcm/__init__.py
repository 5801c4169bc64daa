"""Push notifications with Firebase Cloud Messaging (HTTP v1)."""
