"""The StructN2V tab: training parameters, mask editor, live loss plot and model handling."""
