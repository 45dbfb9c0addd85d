package dev.checkprop.exec;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerContext;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The executor's {@link LayerContext}: plain fields the executor sets before each action, and the
 * job that runs a layer's parallel tasks on the {@link WorkerPool}. One per executor (and one for
 * the layer below, whose gradient head the layer above may run); reused, never allocated per call.
 */
final class Context implements LayerContext, WorkerPool.Job {

    private final DenseKernels kernels;
    private final WorkerPool workers;
    private final int rowChunk;
    private final int sampleChunk;
    /** Threads take the chunks of a task from this counter as they become free. */
    private final AtomicInteger nextChunk = new AtomicInteger();
    private final AtomicInteger taskCounter = new AtomicInteger();

    Layer layer;
    int l;
    int n;
    long step;
    boolean training;
    float[] input;
    float[] inputBySamples;
    float[] output;
    float[] gradOutput;
    float[] gradInput;
    float[] weightGradient;
    float[] biasGradient;
    Curvature curvature;
    float[] rInput;
    float[] rOutput;
    float[] rGradOutput;
    float[] rGradInput;
    float[] directionWeights;
    float[] directionBias;
    float[] productWeights;
    float[] productBias;
    float[][] scratch;
    boolean headDone;
    /** The layer below's context when this layer's finished input rows run its gradient head, else null. */
    Context below;
    ExecutionListener listener;
    long recomputations;

    private int task;
    private int extent;
    private int chunk;

    Context(DenseKernels kernels, WorkerPool workers, int rowChunk, int sampleChunk) {
        this.kernels = kernels;
        this.workers = workers;
        this.rowChunk = rowChunk;
        this.sampleChunk = sampleChunk;
    }

    /** Clears every per-action field, so that nothing of the previous action leaks into the next. */
    void clear() {
        input = inputBySamples = output = gradOutput = gradInput = weightGradient = biasGradient = null;
        rInput = rOutput = rGradOutput = rGradInput = null;
        directionWeights = directionBias = productWeights = productBias = null;
        headDone = false;
        below = null;
    }

    @Override
    public void parallel(int task, int extent, int chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException(layer.describe() + ": chunk must be >= 1, got " + chunk);
        }
        this.task = task;
        this.extent = extent;
        this.chunk = chunk;
        nextChunk.set(0);
        taskCounter.set(0);
        workers.run(this);
    }

    @Override
    public void run() {
        final int chunks = (int) (((long) extent + chunk - 1) / chunk);
        for (int c; (c = nextChunk.getAndIncrement()) < chunks; ) {
            final int from = c * chunk;
            layer.run(this, task, from, (int) Math.min(extent, (long) from + chunk));
        }
    }

    @Override
    public DenseKernels kernels() {
        return kernels;
    }

    @Override
    public int samples() {
        return n;
    }

    @Override
    public int layerIndex() {
        return l;
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public boolean training() {
        return training;
    }

    @Override
    public float[] input() {
        return input;
    }

    @Override
    public float[] inputBySamples() {
        return inputBySamples;
    }

    @Override
    public float[] output() {
        return output;
    }

    @Override
    public float[] gradOutput() {
        return gradOutput;
    }

    @Override
    public float[] gradInput() {
        return gradInput;
    }

    @Override
    public float[] weightGradient() {
        return weightGradient;
    }

    @Override
    public float[] biasGradient() {
        return biasGradient;
    }

    @Override
    public Curvature curvature() {
        return curvature;
    }

    @Override
    public float[] rInput() {
        return rInput;
    }

    @Override
    public float[] rOutput() {
        return rOutput;
    }

    @Override
    public float[] rGradOutput() {
        return rGradOutput;
    }

    @Override
    public float[] rGradInput() {
        return rGradInput;
    }

    @Override
    public float[] directionWeights() {
        return directionWeights;
    }

    @Override
    public float[] directionBias() {
        return directionBias;
    }

    @Override
    public float[] productWeights() {
        return productWeights;
    }

    @Override
    public float[] productBias() {
        return productBias;
    }

    @Override
    public float[] scratch(int k) {
        if (k < 0 || k >= scratch.length || scratch[k] == null) {
            throw new IllegalStateException(layer.describe() + " (layer " + l + ") uses scratch slot " + k
                    + " but declared " + scratch.length + " slots in Layer.scratch");
        }
        return scratch[k];
    }

    @Override
    public int rowChunk() {
        return rowChunk;
    }

    @Override
    public int sampleChunk() {
        return sampleChunk;
    }

    @Override
    public AtomicInteger taskCounter() {
        return taskCounter;
    }

    @Override
    public boolean headDone() {
        return headDone;
    }

    @Override
    public void finishBelow(int k0, int k1) {
        final Context b = below;
        if (b != null) {
            b.layer.gradientHead(b, k0, k1);
        }
    }

    @Override
    public void observe(float[] out) {
        if (listener != null) {
            listener.beforeBackward(l, out, n);
        }
    }

    @Override
    public void countRecomputation() {
        recomputations++;
    }
}
