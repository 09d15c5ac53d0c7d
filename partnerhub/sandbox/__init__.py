"""A local emulator of Mail, SMS, Voice Partner and PEC Massiva (see README)."""
