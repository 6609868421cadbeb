"""What a run tells a reader: plots, leaderboards, the transfer analysis and the pull-request report.
"""
