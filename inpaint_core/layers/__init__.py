"""Building blocks shared by the network families."""
