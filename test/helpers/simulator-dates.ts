const DAY_MS = 24 * 3600 * 1000;

/**
 * The ISO date-time `days` days before the simulator's anchor (00:00 UTC of the day it started, unless pinned):
 * the simulator dates its calls back from there, so date filters built from it find calls on any day.
 */
export function daysBeforeAnchor(simulator: { anchor: Date }, days: number): string {
  return new Date(simulator.anchor.getTime() - days * DAY_MS).toISOString();
}
