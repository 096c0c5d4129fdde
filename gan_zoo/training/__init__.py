"""Lightning plumbing shared by every family: DDP strategy, atomic checkpoint I/O, run set-up."""
