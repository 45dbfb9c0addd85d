package dev.checkprop.exec;

import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Simulation;
import dev.checkprop.plan.Tier;
import dev.checkprop.tier.TierIo;
import dev.checkprop.tier.TierPreflight;
import dev.checkprop.tier.TierStorage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The states an executor holds while it runs a plan: the buffers the plan's {@link Simulation}
 * sizes, which layer's state each holds now, and the counts the executor reports (forward
 * evaluations, live states and bytes, their peaks). It checks every action's precondition itself, so
 * its counts are an independent witness of the plan checker's. Allocates only in its constructor.
 *
 * <h2>NOTE [Tier copies]</h2>
 * A plan with tier actions also gets a {@link TierStorage}: the slots the simulation sizes in each
 * tier and one I/O thread. {@code W l} queues a copy of the state's first floats(l, n) floats (and
 * its R-twin's) into the slot the simulation names; {@code R l} takes the heap buffer the simulation
 * names and queues the copy back. The compute thread waits for a read before the first action that
 * uses a<sup>l</sup> (so a read placed early overlaps what runs in between), and for a write before
 * the heap buffer is dropped (a free buffer may be overwritten) or its layer's backward runs (a layer
 * may reuse its own state there). The queue is first-in first-out, so a slot discarded and written
 * again is never overwritten before an earlier read of it has finished, and a discard waits for nothing.
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

    /** Null for a plan without tier actions. */
    private final TierStorage tiers;
    private final TierIo io;
    private final Plan plan;
    /** Per layer: the tier holding its copy (null: none), and the sequence numbers of its pending read and write (0: none). */
    private final Tier[] copyTier;
    private final long[] pendingRead;
    private final long[] pendingWrite;
    final long[] copies = new long[Tier.values().length];
    final long[] peakCopies = new long[Tier.values().length];
    final long[] copyBytes = new long[Tier.values().length];
    final long[] peakCopyBytes = new long[Tier.values().length];

    /**
     * Sizes and allocates the states, and for a plan with tier actions checks and allocates its tiers
     * first ({@link TierStorage}), so a tier that does not fit is refused before any heap buffer is made.
     */
    StateStore(Network net, Plan plan, int batch, StateModel.Mode mode, java.nio.file.Path spillDir) {
        this.net = net;
        this.plan = plan;
        this.simulation = Simulation.of(plan, StateModel.floats(net, batch), f -> 4L * f * mode.arrays(),
                f -> StateModel.copyBytes(f, mode));
        final boolean r = mode == StateModel.Mode.CURVATURE;
        if (simulation.usesTiers()) {
            final PlanCounts c = PlanCounts.of(plan);
            tiers = new TierStorage("plan " + plan.name(), slotFloats(simulation, mode), spillDir, c.tierActions);
            io = tiers.io();
            copyTier = new Tier[net.depth() + 1];
            pendingRead = new long[net.depth() + 1];
            pendingWrite = new long[net.depth() + 1];
        } else {
            tiers = null;
            io = null;
            copyTier = null;
            pendingRead = null;
            pendingWrite = null;
        }
        states = new float[simulation.buffers()][];
        rStates = r ? new float[simulation.buffers()][] : null;
        try {
            for (int b = 0; b < states.length; b++) {
                states[b] = new float[Math.toIntExact(simulation.bufferSize(b))];
                if (r) {
                    rStates[b] = new float[states[b].length];
                }
            }
        } catch (RuntimeException | Error e) {
            // The tiers' thread, direct memory and spill file would otherwise live until the JVM exits.
            if (tiers != null) {
                tiers.close();
            }
            throw e;
        }
        holder = new float[net.depth() + 1][];
        rHolder = r ? new float[net.depth() + 1][] : null;
        evaluations = new int[net.depth() + 1];
    }

    Simulation simulation() {
        return simulation;
    }

    /** Per tier (index ordinal), the floats of each of its slots: a slot holds a state's arrays one after the other. */
    static long[][] slotFloats(Simulation simulation, StateModel.Mode mode) {
        final Tier[] all = Tier.values();
        final long[][] slotFloats = new long[all.length][];
        for (Tier t : all) {
            slotFloats[t.ordinal()] = new long[simulation.tierSlots(t)];
            for (int s = 0; s < slotFloats[t.ordinal()].length; s++) {
                slotFloats[t.ordinal()][s] = simulation.tierSlotSize(t, s) * mode.arrays();
            }
        }
        return slotFloats;
    }

    /**
     * Refuses, before anything is allocated, a plan whose tier copies do not fit ({@link TierPreflight}):
     * the executor's first step, before its warm-up.
     */
    static void preflight(Network net, Plan plan, int batch, StateModel.Mode mode, java.nio.file.Path spillDir) {
        if (!plan.usesTiers()) {
            return;
        }
        final Simulation sim = Simulation.of(plan, StateModel.floats(net, batch), f -> 4L * f * mode.arrays(),
                f -> StateModel.copyBytes(f, mode));
        final long[][] f = slotFloats(sim, mode);
        final long off = 4 * Arrays.stream(f[Tier.OFF_HEAP.ordinal()]).sum();
        final long disk = 4 * Arrays.stream(f[Tier.DISK.ordinal()]).sum();
        TierPreflight.offHeap("plan " + plan.name(), off + TierStorage.stagingBytes(f[Tier.DISK.ordinal()]), off);
        try {
            TierPreflight.disk("plan " + plan.name(), disk, spillDir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** How many tier actions a plan has: the I/O queue's size. */
    private record PlanCounts(int tierActions) {
        static PlanCounts of(Plan plan) {
            int n = 0;
            for (int i = 0; i < plan.size(); i++) {
                if (plan.op(i) == Plan.Op.WRITE || plan.op(i) == Plan.Op.READ) {
                    n++;
                }
            }
            return new PlanCounts(n);
        }
    }

    TierStorage tiers() {
        return tiers;
    }

    void reset() {
        if (io != null) {
            // A run that ended early (an exception) may have left copies queued; none may outlive it.
            io.drain();
            io.resetCounters();
            Arrays.fill(copyTier, null);
            Arrays.fill(pendingRead, 0);
            Arrays.fill(pendingWrite, 0);
            Arrays.fill(copies, 0);
            Arrays.fill(peakCopies, 0);
            Arrays.fill(copyBytes, 0);
            Arrays.fill(peakCopyBytes, 0);
        }
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
        if (l > 1) {
            awaitRead(l - 1);
        }
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
        awaitRead(l);
        awaitWrite(l);
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
        awaitRead(l);
    }

    /** Before layer l's backward: its state's pending write, if any, is done (the layer may reuse its state there). */
    void beforeBackward(int l) {
        awaitWrite(l);
    }

    private void awaitRead(int l) {
        if (pendingRead != null && pendingRead[l] != 0) {
            io.await(pendingRead[l]);
            pendingRead[l] = 0;
        }
    }

    private void awaitWrite(int l) {
        if (pendingWrite != null && pendingWrite[l] != 0) {
            io.await(pendingWrite[l]);
            pendingWrite[l] = 0;
        }
    }

    /** {@code W l@tier} at action {@code action}: queues the copy into the slot the simulation names. */
    void write(int action, int l, int n, boolean r) {
        if (holder[l] == null) {
            throw new IllegalStateException("write of a" + l + ", which is not live");
        }
        if (copyTier[l] != null) {
            throw new IllegalStateException("write of a" + l + ", which already has a copy in " + copyTier[l].text());
        }
        final Tier t = plan.tier(action);
        final int len = Math.toIntExact(StateModel.floats(net.layer(l), n));
        pendingWrite[l] = io.write(t, simulation.tierSlotOf(action), holder[l], r ? rHolder[l] : null, len, l);
        copyTier[l] = t;
        final int k = t.ordinal();
        copies[k]++;
        peakCopies[k] = Math.max(peakCopies[k], copies[k]);
        copyBytes[k] += stateBytes(l, n, r);
        peakCopyBytes[k] = Math.max(peakCopyBytes[k], copyBytes[k]);
    }

    /** {@code R l} at action {@code action}: takes the heap buffer the simulation names and queues the copy back into it. */
    void read(int action, int l, int n, boolean r) {
        if (copyTier[l] == null) {
            throw new IllegalStateException("read of a" + l + ", which has no tier copy");
        }
        if (holder[l] != null) {
            throw new IllegalStateException("read of a" + l + ", which is already live");
        }
        final int b = simulation.bufferOf(action);
        holder[l] = states[b];
        if (r) {
            rHolder[l] = rStates[b];
        }
        final int len = Math.toIntExact(StateModel.floats(net.layer(l), n));
        pendingRead[l] = io.read(copyTier[l], simulation.tierSlotOf(action), holder[l], r ? rHolder[l] : null, len, l);
        liveStates++;
        liveBytes += stateBytes(l, n, r);
        peakLiveStates = Math.max(peakLiveStates, liveStates);
        peakBytes = Math.max(peakBytes, liveBytes);
    }

    /** {@code X l}: frees the copy (the queue's order keeps its slot until earlier copies are done). */
    void discard(int l, int n, boolean r) {
        if (copyTier == null || copyTier[l] == null) {
            throw new IllegalStateException("discard of a" + l + ", which has no tier copy");
        }
        final int k = copyTier[l].ordinal();
        copies[k]--;
        copyBytes[k] -= stateBytes(l, n, r);
        copyTier[l] = null;
    }

    /** At the end of a run: every queued copy is done. */
    void finishRun() {
        if (io != null) {
            io.drain();
        }
    }

    /** Answers whether a tier copy is still held (the run must end with none). */
    boolean copiesHeld() {
        if (copyTier != null) {
            for (Tier t : copyTier) {
                if (t != null) {
                    return true;
                }
            }
        }
        return false;
    }

    void close() {
        if (tiers != null) {
            tiers.close();
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
