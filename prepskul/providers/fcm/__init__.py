"""Push notifications with Firebase Cloud Messaging (HTTP v1)."""

REAL_BASE_URL = "https://fcm.googleapis.com"
