package dev.checkprop.exec;

import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Simulation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The states an executor holds while it runs a plan: the buffers the plan's {@link Simulation}
 * sizes, which layer's state each holds now, and the counts the executor reports (forward
 * evaluations, live states and bytes, their peaks). It checks every action's precondition itself, so
 * its counts are an independent witness of the plan checker's. Allocates only in its constructor.
 */
final class StateStore {

    private final Network net;
    private final Simulation simulation;
    private final float[][] states;
    private final float[][] rStates;
    /** Per layer l: the array holding its state now, or null; and its R-twin. */
    final float[][] holder;
    final float[][] rHolder;

    final int[] evaluations;
    long forwardEvaluations;
    int liveStates;
    int peakLiveStates;
    long liveBytes;
    long peakBytes;

    StateStore(Network net, Plan plan, int batch, StateModel.Mode mode) {
        this.net = net;
        this.simulation = Simulation.of(plan, StateModel.floats(net, batch), f -> 4L * f * mode.arrays());
        final boolean r = mode == StateModel.Mode.CURVATURE;
        states = new float[simulation.buffers()][];
        rStates = r ? new float[simulation.buffers()][] : null;
        for (int b = 0; b < states.length; b++) {
            states[b] = new float[Math.toIntExact(simulation.bufferSize(b))];
            if (r) {
                rStates[b] = new float[states[b].length];
            }
        }
        holder = new float[net.depth() + 1][];
        rHolder = r ? new float[net.depth() + 1][] : null;
        evaluations = new int[net.depth() + 1];
    }

    Simulation simulation() {
        return simulation;
    }

    void reset() {
        Arrays.fill(evaluations, 0);
        forwardEvaluations = 0;
        liveStates = 0;
        peakLiveStates = 0;
        liveBytes = 0;
        peakBytes = 0;
        Arrays.fill(holder, null);
        if (rHolder != null) {
            Arrays.fill(rHolder, null);
        }
    }

    /** {@code F l} at action {@code action}: the buffer the simulation assigned now holds a<sup>l</sup>; answers its index. */
    int take(int action, int l, int n, boolean r) {
        if (l > 1 && holder[l - 1] == null) {
            throw new IllegalStateException("forward through layer " + l + " needs a" + (l - 1) + ", which is not live");
        }
        if (holder[l] != null) {
            throw new IllegalStateException("a" + l + " is already live");
        }
        final int b = simulation.bufferOf(action);
        holder[l] = states[b];
        if (r) {
            rHolder[l] = rStates[b];
        }
        evaluations[l]++;
        forwardEvaluations++;
        liveStates++;
        liveBytes += stateBytes(l, n, r);
        peakLiveStates = Math.max(peakLiveStates, liveStates);
        peakBytes = Math.max(peakBytes, liveBytes);
        return b;
    }

    /** {@code D l}. */
    void release(int l, int n, boolean r) {
        if (holder[l] == null) {
            throw new IllegalStateException("drop of a" + l + ", which is not live");
        }
        holder[l] = null;
        if (rHolder != null) {
            rHolder[l] = null;
        }
        liveStates--;
        liveBytes -= stateBytes(l, n, r);
    }

    void requireLive(int l, int action) {
        if (holder[l] == null) {
            throw new IllegalStateException("action #" + action + " needs a" + l + ", which is not live");
        }
    }

    /** Payload bytes of layer l's state in this run: a<sup>l</sup> and its tape, twice in a curvature run. */
    private long stateBytes(int l, int n, boolean r) {
        return (r ? 8L : 4L) * StateModel.floats(net.layer(l), n);
    }

    /** Every state buffer, then every twin. */
    List<float[]> buffers() {
        final List<float[]> all = new ArrayList<>(Arrays.asList(states));
        if (rStates != null) {
            all.addAll(Arrays.asList(rStates));
        }
        return all;
    }

    /** The arrays holding live states now, then their twins. */
    List<float[]> live() {
        final List<float[]> live = new ArrayList<>();
        for (float[] h : holder) {
            if (h != null) {
                live.add(h);
            }
        }
        if (rHolder != null) {
            for (float[] h : rHolder) {
                if (h != null) {
                    live.add(h);
                }
            }
        }
        return live;
    }

    long payloadBytes() {
        long b = 0;
        for (float[] buf : states) {
            b += 4L * buf.length;
        }
        return rStates == null ? b : 2 * b;
    }
}
