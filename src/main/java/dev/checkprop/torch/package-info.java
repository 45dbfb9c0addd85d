/**
 * The bridge to PyTorch: a {@code torch.nn.Sequential}'s state_dict, saved with
 * {@code safetensors.torch.save_file}, plus an {@link dev.checkprop.torch.Architecture} string, to a
 * checkprop network and back ({@link dev.checkprop.torch.TorchBridge}). See docs/pytorch.md.
 */
package dev.checkprop.torch;
