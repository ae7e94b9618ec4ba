"""The branching story: its model, loader, checker and static export."""
