"""One module per command (or group). Each lists its click commands in ``COMMANDS``;
newsletter.cli finds them, so adding a command never touches a shared file."""
