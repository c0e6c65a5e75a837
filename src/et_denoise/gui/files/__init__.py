"""Opening and saving images and results, and the commands and scripts that reproduce them."""
