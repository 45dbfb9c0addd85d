/**
 * Data, with no downloads: an immutable {@link dev.checkprop.data.Dataset}, a
 * {@link dev.checkprop.data.Batcher} that cuts it into seeded, shuffled fixed-size mini-batches,
 * {@link dev.checkprop.data.Synthetic} tasks (two spirals, a random teacher network), and loaders
 * for CSV ({@link dev.checkprop.data.CsvLoader}), MNIST-style IDX ({@link dev.checkprop.data.IdxLoader})
 * and safetensors ({@link dev.checkprop.data.SafeTensorsData}) files, whose errors
 * ({@link dev.checkprop.data.DataFormatException}) name the file and the line or byte offset.
 *
 * <p>Randomness comes only from {@link dev.checkprop.nn.Seeds}, never from {@code java.util.Random},
 * so a dataset, a split and every batch are the same on every JDK.
 */
package dev.checkprop.data;
