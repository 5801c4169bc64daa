"""The one service layer: routes and job handlers call these functions, which load state,
ask `domain/` for the rule, write the change and its jobs in one transaction."""
