"""The formal track: mentor availability each term and mentor-trainee assignments."""
