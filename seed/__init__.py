"""The demo institution, built through the services like a real one."""
