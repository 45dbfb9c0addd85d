/**
 * Where a plan's tier copies live ({@link dev.checkprop.plan.Tier}): off-heap slots in direct
 * buffers ({@link OffHeapSlots}), disk slots in one spill file per executor ({@link DiskSlots}) in a
 * per-run directory that a later run can recognise and clean if this one is killed
 * ({@link SpillDirectory}), the one background thread that moves states between the heap and them
 * ({@link TierIo}), and the checks made before any of it is allocated ({@link TierPreflight}). It knows
 * nothing of layers or plans beyond the tier names: the executor tells it which floats go to which slot.
 * See {@code docs/tiers.md}.
 */
package dev.checkprop.tier;
