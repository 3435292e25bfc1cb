"""Job functions: the same handlers run under SAQ (`lms worker`) and in the in-process queue."""
