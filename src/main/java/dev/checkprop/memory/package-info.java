/**
 * Memory accounting: {@link dev.checkprop.memory.MemoryModel} predicts the bytes of every category
 * (parameters, gradients, activation pools, workspace, batch, optimizer state) with array sizes
 * from the running VM's options ({@link dev.checkprop.memory.ArrayLayout}, equal to JOL's, which it
 * falls back to on VMs other than 64-bit HotSpot);
 * {@link dev.checkprop.memory.MemoryReport} measures the live objects with JOL's object-graph walk
 * at the plan's peak action and sets the two side by side. JOL is used only here.
 */
package dev.checkprop.memory;
