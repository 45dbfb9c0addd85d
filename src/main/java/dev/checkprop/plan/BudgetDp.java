package dev.checkprop.plan;

/** A filled byte-budget dynamic program, ready to answer its cost and write its plan. */
interface BudgetDp {

    /** Answers the total forward cost of the plan {@link #emit} writes. */
    long cost();

    /** Whether some cost function was thinned to the slot limit (the plan may then not be the best). */
    boolean thinned();

    /** Answers the merged breakpoints the program took: a machine-independent measure of its time. */
    long work();

    /** Writes the plan into {@code out} and builds it. */
    Plan emit(Plan.Builder out);
}
