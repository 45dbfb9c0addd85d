package dev.checkprop.plan;

import it.unimi.dsi.fastutil.ints.IntArrayList;
import it.unimi.dsi.fastutil.longs.LongArrayList;

/**
 * The one plan writer of the dynamic programs ({@link OptimalPlanner}, {@link SlotDp},
 * {@link SlideDp}, {@link PiecewiseDp}): they rebuild their plans from their tables subproblem by
 * subproblem, and this holds the pending subproblems on an explicit stack, no recursion, so that a
 * chain of any length plans on a small call stack.
 *
 * <p>A subproblem is a {@link Kind} and up to four coordinates whose meaning is the program's (a
 * segment, its memory, a return point): ints x, y, z and a long w, with a {@code type} tag for
 * programs made of several kinds of node (0 if not). {@link #emit} pushes the whole chain's subproblem
 * and then, until the stack is empty, pops the top one and lets the program's {@link Expander} write
 * its first actions (through {@link #advance}, {@link #slide}, {@link #drop}, {@link #backward}) and
 * push the subproblems that follow, the one to solve first pushed last.
 *
 * <p>{@code LOSS} goes right after the first computation of a<sup>L</sup>: whichever subproblem's
 * advance reaches a<sup>L</sup> first writes it, which is why no program tracks it.
 */
final class PlanEmitter {

    /** A program's step: writes the first actions of one subproblem and pushes those that follow. */
    @FunctionalInterface
    interface Expander {
        /**
         * Expands subproblem ({@code type}, {@code kind}, x, y, z, w), as pushed by {@link #push}.
         */
        void expand(PlanEmitter out, int type, Kind kind, int x, int y, int z, long w);
    }

    private final Plan.Builder out;
    private final int layers;
    private boolean lossDone;
    private final IntArrayList nodes = new IntArrayList();  // (type, kind, x, y, z) per pending subproblem
    private final LongArrayList wide = new LongArrayList(); // its w

    private PlanEmitter(Plan.Builder out) {
        this.out = out;
        this.layers = out.layers();
    }

    /**
     * Writes the plan of subproblem ({@code type}, {@code kind}, x, y, z, w), the whole chain, into
     * {@code out} with {@code expander}, and builds it.
     */
    static Plan emit(Plan.Builder out, Expander expander, int type, Kind kind, int x, int y, int z, long w) {
        final PlanEmitter e = new PlanEmitter(out);
        e.run(expander, type, kind, x, y, z, w);
        return out.build();
    }

    /**
     * Answers an emitter writing into {@code out} for a plan made of several subproblems written one
     * after another, with the caller's own actions between them ({@link TieredDp}): {@code LOSS} is
     * still written once, after the first computation of a<sup>L</sup> by any of them.
     */
    static PlanEmitter into(Plan.Builder out) {
        return new PlanEmitter(out);
    }

    /** Writes the whole plan of subproblem ({@code type}, {@code kind}, x, y, z, w) with {@code expander}. */
    void run(Expander expander, int type, Kind kind, int x, int y, int z, long w) {
        push(type, kind, x, y, z, w);
        while (!nodes.isEmpty()) {
            final int top = nodes.size() - 5;
            final int t = nodes.getInt(top);
            final Kind k = Kind.of(nodes.getInt(top + 1));
            final int nx = nodes.getInt(top + 2);
            final int ny = nodes.getInt(top + 3);
            final int nz = nodes.getInt(top + 4);
            final long nw = wide.popLong();
            nodes.size(top);
            expander.expand(this, t, k, nx, ny, nz, nw);
        }
    }

    /** Pushes a subproblem; the last pushed is expanded next. */
    void push(int type, Kind kind, int x, int y, int z, long w) {
        nodes.add(type);
        nodes.add(kind.ordinal());
        nodes.add(x);
        nodes.add(y);
        nodes.add(z);
        wide.add(w);
    }

    /** Pushes a subproblem of type 0 with w = 0. */
    void push(Kind kind, int x, int y, int z) {
        push(0, kind, x, y, z, 0);
    }

    /** Pushes a subproblem of type 0. */
    void push(Kind kind, int x, int y, int z, long w) {
        push(0, kind, x, y, z, w);
    }

    /**
     * The advance from a<sup>from</sup> (live) to a<sup>to</sup>, keeping only the last:
     * {@code F from+1, F from+2, D from+1, ..., F to, D to-1}; then {@code LOSS} if a<sup>to</sup> is
     * a<sup>L</sup>, computed for the first time.
     */
    void advance(int from, int to) {
        BinomialPlanner.advance(out, from, to);
        if (to > from) {
            lossAt(to);
        }
    }

    /**
     * The slide of a checkpoint from a<sup>i</sup> to a<sup>k</sup> ({@link SlideDp}): {@code F i+1},
     * drop a<sup>i</sup> (unless it is a<sup>0</sup>), then on to a<sup>k</sup> keeping only the last.
     */
    void slide(int i, int k) {
        out.forward(i + 1);
        lossAt(i + 1);
        if (i > 0) {
            out.drop(i);
        }
        advance(i + 1, k);
    }

    /** {@code D l}. */
    void drop(int l) {
        out.drop(l);
    }

    /** {@code B l D l}: the backward step of a one-layer segment, which ends it. */
    void backward(int l) {
        out.backward(l);
        out.drop(l);
    }

    private void lossAt(int l) {
        if (l == layers && !lossDone) {
            out.loss();
            lossDone = true;
        }
    }
}
