import { cubesDisjoint, type LabelCube } from './labels.js';

// Which policies can affect each other's compilation in one direction. An entry is compared only
// with earlier cubes whose subject meets its own (compile.ts, Earlier), so a policy's results
// depend only on the policies whose subjects are connected to its subjects by a chain of
// meeting subjects. The graph has a node per subject in use, an edge between subjects that
// meet, and units (a policy in one direction) that tie their subjects together; what a change
// can affect is what its subjects reach.

export interface Reach {
  readonly subjects: Set<string>;
  readonly units: Set<string>;
}

export class SubjectGraph {
  private readonly subjects = new Map<string, LabelCube>();
  /** Per subject: the units that use it. */
  private readonly users = new Map<string, Set<string>>();
  private readonly meeting = new Map<string, Set<string>>();
  private readonly unitSubjects = new Map<string, readonly string[]>();

  /** The unit's subjects now (none: the unit is gone). */
  setUnit(unit: string, subjects: ReadonlyMap<string, LabelCube>): void {
    const before = this.unitSubjects.get(unit) ?? [];
    for (const [key, subject] of subjects) this.use(key, subject, unit);
    for (const key of before) if (!subjects.has(key)) this.release(key, unit);
    if (subjects.size === 0) this.unitSubjects.delete(unit);
    else this.unitSubjects.set(unit, [...subjects.keys()]);
  }

  unitCount(): number {
    return this.unitSubjects.size;
  }

  /**
   * The subjects and units connected to any of `from` (subjects in use); undefined as soon as
   * more than `most` units are found (a caller that would not walk so many need not know all).
   */
  reach(from: Iterable<string>, most = Infinity): Reach | undefined {
    const subjects = new Set<string>();
    const units = new Set<string>();
    const queue: string[] = [];
    const visit = (key: string) => {
      if (subjects.has(key) || !this.subjects.has(key)) return;
      subjects.add(key);
      queue.push(key);
    };
    for (const key of from) visit(key);
    while (queue.length > 0) {
      const key = queue.pop()!;
      for (const other of this.meeting.get(key)!) visit(other);
      for (const unit of this.users.get(key)!) {
        if (units.has(unit)) continue;
        units.add(unit);
        if (units.size > most) return undefined;
        for (const k of this.unitSubjects.get(unit)!) visit(k);
      }
    }
    return { subjects, units };
  }

  private use(key: string, subject: LabelCube, unit: string): void {
    let users = this.users.get(key);
    if (users === undefined) {
      users = new Set();
      this.users.set(key, users);
      const meeting = new Set<string>();
      for (const [k, s] of this.subjects) {
        if (cubesDisjoint(subject, s)) continue;
        meeting.add(k);
        this.meeting.get(k)!.add(key);
      }
      if (!cubesDisjoint(subject, subject)) meeting.add(key);
      this.subjects.set(key, subject);
      this.meeting.set(key, meeting);
    }
    users.add(unit);
  }

  private release(key: string, unit: string): void {
    const users = this.users.get(key);
    if (users === undefined) return;
    users.delete(unit);
    if (users.size > 0) return;
    this.users.delete(key);
    this.subjects.delete(key);
    for (const k of this.meeting.get(key)!) if (k !== key) this.meeting.get(k)!.delete(key);
    this.meeting.delete(key);
  }
}
