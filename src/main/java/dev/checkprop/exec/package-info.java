/**
 * The executor: {@link dev.checkprop.exec.Executor} runs any plan on a network with buffers from a
 * pool sized by the plan, and counts what it did ({@link dev.checkprop.exec.RunStats}). It is the
 * only code that runs layers.
 */
package dev.checkprop.exec;
