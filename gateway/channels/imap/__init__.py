"""The IMAP channel: polling and IDLE on mailboxes and Sent folders, UID cursors, connections."""
