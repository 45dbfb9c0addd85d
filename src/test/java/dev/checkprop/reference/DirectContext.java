package dev.checkprop.reference;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerContext;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link LayerContext} for running one layer by hand in a test, on the calling thread: public
 * fields for every array, {@link #parallel} runs the chunks in order (or, with {@link #reversed},
 * last chunk first, as a thread that is late on the first chunk would), scratch sized from the
 * layer's own {@link Layer#scratch}. Null arrays are null in the context, as the executor passes them.
 * One thread: not for layers whose later chunks wait on {@link #taskCounter} for earlier ones
 * (the dense layers' products), which {@link #reversed} would leave waiting forever.
 */
public final class DirectContext implements LayerContext {

    private final Layer layer;
    private final int samples;
    private final float[][] scratch;
    private final AtomicInteger counter = new AtomicInteger();

    public DenseKernels kernels = Kernels.scalar();
    public int layerIndex = 2;
    public long step;
    public boolean training = true;
    public int rowChunk = 1 << 24;
    public int sampleChunk = 1 << 24;
    public boolean reversed;
    public float[] input;
    public float[] inputBySamples;
    public float[] output;
    public float[] gradOutput;
    public float[] gradInput;
    public float[] weightGradient;
    public float[] biasGradient;
    public Curvature curvature;
    public float[] rInput;
    public float[] rOutput;
    public float[] rGradOutput;
    public float[] rGradInput;
    public float[] directionWeights;
    public float[] directionBias;
    public float[] productWeights;
    public float[] productBias;
    /** How often each task ran, by task number (up to 16 tasks). */
    public final int[] tasksRun = new int[16];

    /** A context for {@code layer} and batches of {@code samples}, with scratch for gradients and, if {@code curvature}, tangents. */
    public DirectContext(Layer layer, int samples, boolean curvature) {
        this.layer = layer;
        this.samples = samples;
        long[] need = layer.scratch(samples, curvature);
        scratch = new float[need.length][];
        for (int k = 0; k < need.length; k++) {
            scratch[k] = new float[Math.toIntExact(need[k])];
        }
    }

    /** A state array for the layer's output and tape. */
    public float[] newState() {
        return new float[(layer.outputWidth() + layer.tapeRows()) * samples];
    }

    @Override
    public DenseKernels kernels() {
        return kernels;
    }

    @Override
    public int samples() {
        return samples;
    }

    @Override
    public int layerIndex() {
        return layerIndex;
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
        return scratch[k];
    }

    @Override
    public void parallel(int task, int extent, int chunk) {
        counter.set(0);
        tasksRun[task]++;
        int chunks = (extent + chunk - 1) / chunk;
        for (int c = 0; c < chunks; c++) {
            int from = (reversed ? chunks - 1 - c : c) * chunk;
            layer.run(this, task, from, Math.min(extent, from + chunk));
        }
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
        return counter;
    }

    @Override
    public boolean headDone() {
        return false;
    }

    @Override
    public void finishBelow(int k0, int k1) {
    }

    @Override
    public void observe(float[] output) {
    }

    @Override
    public void countRecomputation() {
    }
}
