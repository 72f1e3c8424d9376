"""Appeals and their closed loop: intake, red/yellow/green triage and routing, deadlines, the public board, feedback."""
