package dev.checkprop.exec;

import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * An executor's constant arrays besides the states: a<sup>0</sup> transposed, two ping-pong buffers
 * for &part;L/&part;a flowing backward (two more for their R-images in curvature mode; inference uses
 * the first two as its states), and the scratch each class of layer declares ({@link Layer#scratch}),
 * one set per class since layers run one at a time. The static methods are the one answer to their
 * sizes, for memory predictions.
 */
public final class Workspace {

    final float[] input;
    float[] flow;
    float[] flowNext;
    float[] rFlow;
    float[] rFlowNext;
    /** Per layer l: its class's scratch arrays (null entries for slots of no float). */
    final float[][][] scratchOf;

    Workspace(Network net, int batch, StateModel.Mode mode) {
        final long[] w = floats(net, batch);
        input = new float[Math.toIntExact(w[0])];
        flow = new float[Math.toIntExact(w[1])];
        flowNext = new float[flow.length];
        if (mode == StateModel.Mode.CURVATURE) {
            rFlow = new float[flow.length];
            rFlowNext = new float[flow.length];
        }
        final Map<Class<?>, float[][]> arrays = new IdentityHashMap<>();
        for (Map.Entry<Class<?>, long[]> e : scratchNeeds(net, batch, mode).entrySet()) {
            final float[][] a = new float[e.getValue().length][];
            for (int k = 0; k < a.length; k++) {
                a[k] = e.getValue()[k] > 0 ? new float[Math.toIntExact(e.getValue()[k])] : null;
            }
            arrays.put(e.getKey(), a);
        }
        scratchOf = new float[net.depth() + 1][][];
        for (int l = 1; l <= net.depth(); l++) {
            scratchOf[l] = arrays.get(net.layer(l).getClass());
        }
    }

    /** After layer l &gt; 1's backward: the gradient it wrote for a<sup>l-1</sup> becomes the incoming one. */
    void swapFlows(boolean r) {
        final float[] t = flow;
        flow = flowNext;
        flowNext = t;
        if (r) {
            final float[] rt = rFlow;
            rFlow = rFlowNext;
            rFlowNext = rt;
        }
    }

    /** Every array, each once. */
    List<float[]> arrays() {
        final List<float[]> all = new ArrayList<>(List.of(input, flow, flowNext));
        if (rFlow != null) {
            all.addAll(List.of(rFlow, rFlowNext));
        }
        final Map<float[][], Boolean> seen = new IdentityHashMap<>();
        for (int l = 1; l < scratchOf.length; l++) {
            if (seen.put(scratchOf[l], Boolean.TRUE) == null) {
                for (float[] a : scratchOf[l]) {
                    if (a != null) {
                        all.add(a);
                    }
                }
            }
        }
        return List.copyOf(all);
    }

    /**
     * Answers the floats of the input transposed (index 0) and of one gradient-flow buffer (index 1:
     * the widest layer or state, since inference keeps its states there).
     */
    public static long[] floats(Network net, int batch) {
        int widest = StateModel.widestStateRows(net);
        for (int l = 0; l <= net.depth(); l++) {
            widest = Math.max(widest, net.width(l));
        }
        return new long[]{(long) net.inputWidth() * batch, (long) widest * batch};
    }

    /** Answers the gradient-flow buffers in {@code mode}: two, four with their R-images. */
    public static int flowBuffers(StateModel.Mode mode) {
        return 2 * mode.arrays();
    }

    /**
     * Answers the scratch an executor allocates: per layer class, the floats of each slot, the largest
     * any layer of that class declares ({@link Layer#scratch}).
     */
    public static Map<Class<?>, long[]> scratchNeeds(Network net, int batch, StateModel.Mode mode) {
        final Map<Class<?>, long[]> need = new IdentityHashMap<>();
        for (Layer d : net.layers()) {
            final long[] s = d.scratch(batch, mode == StateModel.Mode.CURVATURE);
            final long[] cur = need.getOrDefault(d.getClass(), new long[0]);
            final long[] merged = Arrays.copyOf(cur, Math.max(cur.length, s.length));
            for (int k = 0; k < s.length; k++) {
                merged[k] = Math.max(merged[k], s[k]);
            }
            need.put(d.getClass(), merged);
        }
        return need;
    }
}
