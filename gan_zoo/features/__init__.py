"""The frozen networks the metrics embed images with (TF Inception, NVIDIA's VGG16, LPIPS, StarGAN v2's
evaluation networks, attribute classifiers) and the finding and checking of their weight files.

Nothing here computes a metric: gan_zoo.metrics does, from the features these networks give.
"""
