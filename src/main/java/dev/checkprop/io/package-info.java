/**
 * Files: a dependency-free, strict safetensors reader and writer ({@link dev.checkprop.io.SafeTensors})
 * and the checkprop layouts of models, data and gradients in it ({@link dev.checkprop.io.ModelFile}),
 * so that they move to and from PyTorch and NumPy unchanged.
 */
package dev.checkprop.io;
