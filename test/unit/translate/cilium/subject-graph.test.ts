import { describe, expect, it } from 'vitest';
import { constraintOf, cubeKey, UNIVERSAL_CUBE, type LabelCube } from '../../../../src/translate/cilium/labels.js';
import { SubjectGraph } from '../../../../src/translate/cilium/subject-graph.js';

// Subjects by team label: teams never meet each other; the universal subject meets every one.
const team = (t: string): LabelCube => [['team', constraintOf('In', [t])]];
const subjects = (...cubes: LabelCube[]) => new Map(cubes.map((c) => [cubeKey(c), c]));
const sorted = (s: Iterable<string>) => [...s].sort();

function graph(): SubjectGraph {
  const g = new SubjectGraph();
  g.setUnit('a1', subjects(team('a')));
  g.setUnit('a2', subjects(team('a')));
  g.setUnit('b1', subjects(team('b')));
  g.setUnit('bc', subjects(team('b'), team('c')));
  g.setUnit('c1', subjects(team('c')));
  g.setUnit('d1', subjects(team('d')));
  return g;
}

describe('subject graph', () => {
  const cases: { name: string; change: (g: SubjectGraph) => void; from: LabelCube[]; units: string[] }[] = [
    { name: 'units of the same subject', change: () => undefined, from: [team('a')], units: ['a1', 'a2'] },
    { name: 'a unit with two subjects ties them', change: () => undefined, from: [team('b')], units: ['b1', 'bc', 'c1'] },
    { name: 'a subject no unit uses reaches nothing', change: () => undefined, from: [team('z')], units: [] },
    { name: 'a subject that meets all connects all', change: (g) => g.setUnit('all', subjects(UNIVERSAL_CUBE)), from: [team('d')], units: ['a1', 'a2', 'all', 'b1', 'bc', 'c1', 'd1'] },
    { name: 'a unit gone unties its subjects', change: (g) => g.setUnit('bc', new Map()), from: [team('b')], units: ['b1'] },
    { name: 'a unit moved leaves its old subject', change: (g) => g.setUnit('bc', subjects(team('d'))), from: [team('c')], units: ['c1'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = graph();
      c.change(g);
      expect(sorted(g.reach(c.from.map(cubeKey))!.units)).toEqual(c.units);
    });
  }

  it('stops once it has reached more units than asked for', () => {
    const g = graph();
    g.setUnit('all', subjects(UNIVERSAL_CUBE));
    expect(g.reach([cubeKey(team('a'))], 3)).toBeUndefined();
    expect(g.reach([cubeKey(team('d'))], 7)?.units.size).toBe(7);
    expect(g.unitCount()).toBe(7);
  });
});
