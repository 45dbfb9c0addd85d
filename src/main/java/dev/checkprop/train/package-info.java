/**
 * Training: {@link dev.checkprop.train.Optimizer}s ({@link dev.checkprop.train.Sgd} with optional
 * momentum, {@link dev.checkprop.train.Adam}, {@link dev.checkprop.train.AdamW}) that update a
 * network's parameter arrays in place from {@link dev.checkprop.nn.Gradients}, and
 * {@link dev.checkprop.train.LearningRate} schedules (constant, step, cosine with warmup).
 *
 * <p>A training step is: take a batch ({@link dev.checkprop.data.Batcher#batch(long)}), compute
 * its gradient ({@link dev.checkprop.exec.Executor#gradient}), then
 * {@link dev.checkprop.train.Optimizer#step}. Optimizers allocate their state once and nothing per
 * step, and compute in float in a fixed order, so a run is deterministic.
 */
package dev.checkprop.train;
