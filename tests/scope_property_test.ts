// Copyright 2026 the @lionpride/core authors. MIT license.
// Property test for API.md §3: random trees of nested scopes with deadlines,
// shields and manual cancels, on fake time, checked against a model.
import assert from "node:assert/strict";
import fc from "fast-check";
import { CancelScope, currentScope, currentTime, effectiveDeadline, sleep } from "../mod.ts";
import { withFakeTime } from "./_fake_time.ts";

/**
 * One scope of the tree. Node 0 is the root; node i > 0 is a child of
 * `parent` (< i). Its body sleeps `pre` ms, records effectiveDeadline(), runs
 * its children concurrently, waits for them, then sleeps `post` ms. It also
 * leaves behind work that nobody awaits, which records currentScope() once
 * the whole tree has finished.
 *
 * Times: bodies start and record at multiples of 1000; every deadline and
 * manual cancel falls on 1000k + 500 + a sub-offset unique to the node and the
 * event, so no two events ever tie and the model needs no tie-breaking.
 */
interface NodeSpec {
  parent: number;
  shield: boolean;
  deadline: number;
  manual: number;
  pre: number;
  post: number;
}

type Outcome = "done" | "caught" | "parent";

interface Expected {
  /** effectiveDeadline() recorded by the body, or undefined if it never ran. */
  record: number | undefined;
  outcome: Outcome;
  exit: number;
}

const nodeArb = fc.record({
  parent: fc.nat(),
  shield: fc.boolean(),
  deadlineK: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 2 }),
  manualK: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 2 }),
  pre: fc.integer({ min: 1, max: 3 }),
  post: fc.integer({ min: 1, max: 3 }),
});

const treeArb = fc.array(nodeArb, { minLength: 1, maxLength: 14 }).map((raw) =>
  raw.map((r, i): NodeSpec => ({
    parent: i === 0 ? -1 : r.parent % i,
    shield: i === 0 ? false : r.shield,
    deadline: r.deadlineK === null ? Infinity : r.deadlineK * 1000 + 500 + 2 * i,
    manual: r.manualK === null ? Infinity : r.manualK * 1000 + 500 + 2 * i + 1,
    pre: r.pre * 1000,
    post: r.post * 1000,
  }))
);

function childrenOf(nodes: NodeSpec[]): number[][] {
  const children: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    if (i > 0) children[n.parent].push(i);
  });
  return children;
}

/**
 * The scope that work left behind by node i's body sees once the whole tree
 * has finished: the nearest scope from i up to the root that was cancelled
 * before it exited (a scope that finished normally hands such work to the
 * scope around it); `-1` for none.
 */
function leftoverScope(nodes: NodeSpec[], expected: Map<number, Expected>, i: number): number {
  for (let j = i; j >= 0; j = nodes[j].parent) {
    if (expected.get(j)!.outcome !== "done") return j;
  }
  return -1;
}

/** What the contract says happens, computed without the library. */
function model(nodes: NodeSpec[]): Map<number, Expected> {
  const children = childrenOf(nodes);
  const result = new Map<number, Expected>();

  /** Earliest deadline of the chain from i up to (and including) the first shielded scope. */
  const chainDeadline = (i: number): number => {
    let d = Infinity;
    for (let j = i; j >= 0; j = nodes[j].shield ? -1 : nodes[j].parent) {
      d = Math.min(d, nodes[j].deadline);
    }
    return d;
  };

  /** Visits node i, started at `start` inside a parent cancelled at `parentCancel`; returns its exit time. */
  const visit = (i: number, start: number, parentCancel: number): number => {
    const node = nodes[i];
    const own = Math.min(node.deadline, node.manual);
    if (own < start) {
      // Cancelled before run: the body is not invoked.
      result.set(i, { record: undefined, outcome: "caught", exit: start });
      return start;
    }
    const cancel = Math.min(own, node.shield ? Infinity : parentCancel);
    const recordAt = start + node.pre;
    let exit: number, record: number;
    if (cancel < recordAt) {
      // The first sleep rejects; the body records from its catch block.
      exit = cancel;
      record = -Infinity;
    } else {
      record = chainDeadline(i);
      let waited = recordAt;
      for (const c of children[i]) waited = Math.max(waited, visit(c, recordAt, cancel));
      if (cancel <= waited) exit = waited; // the last sleep rejects at once
      else exit = Math.min(cancel, waited + node.post);
    }
    let outcome: Outcome = "done";
    if (cancel <= exit) {
      const parentVisible = !node.shield && parentCancel <= exit;
      outcome = parentVisible ? "parent" : "caught";
    }
    result.set(i, { record, outcome, exit });
    return exit;
  };

  visit(0, 0, Infinity);
  return result;
}

interface Observed {
  record: number | undefined;
  outcome: Outcome;
  exit: number;
  error?: unknown;
  caught: boolean;
  cancelCalled: boolean;
}

/** Runs the tree with the library on fake time. */
async function observe(
  nodes: NodeSpec[],
): Promise<{
  seen: Map<number, Observed>;
  scopes: CancelScope[];
  timersLeft: number;
  leftovers: Map<number, CancelScope | undefined>;
}> {
  const children = childrenOf(nodes);
  const scopes = nodes.map((n) => new CancelScope({ deadline: n.deadline, shield: n.shield }));
  const records = new Map<number, number>();
  const seen = new Map<number, Observed>();
  let timersLeft = -1;
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const leftoverWork = new Map<number, Promise<CancelScope | undefined>>();

  await withFakeTime(async (clock) => {
    nodes.forEach((n, i) => {
      if (n.manual !== Infinity) setTimeout(() => scopes[i].cancel(), n.manual);
    });
    const runNode = (i: number): Promise<unknown> => {
      const scope = scopes[i];
      const done = (outcome: Outcome, error?: unknown) =>
        seen.set(i, {
          record: records.get(i),
          outcome,
          exit: currentTime(),
          error,
          caught: scope.cancelledCaught,
          cancelCalled: scope.cancelCalled,
        });
      return scope.run(async () => {
        leftoverWork.set(i, gate.then(() => currentScope()));
        try {
          await sleep(nodes[i].pre);
        } catch (err) {
          records.set(i, effectiveDeadline());
          throw err;
        }
        records.set(i, effectiveDeadline());
        await Promise.allSettled(children[i].map(runNode));
        await sleep(nodes[i].post);
        return "done";
      }).then(
        (value) => done(value === "done" ? "done" : "caught"),
        (err) => {
          done("parent", err);
          throw err;
        },
      );
    };
    const root = runNode(0);
    await clock.runAllAsync();
    await root;
    timersLeft = clock.countTimers();
  });
  openGate();
  const leftovers = new Map<number, CancelScope | undefined>();
  for (const [i, work] of leftoverWork) leftovers.set(i, await work);
  return { seen, scopes, timersLeft, leftovers };
}

Deno.test("in random trees of scopes, effective deadlines, catching scopes, exit times and where leftover work lands follow the model", async () => {
  await fc.assert(
    fc.asyncProperty(treeArb, async (nodes) => {
      const expected = model(nodes);
      const { seen, scopes, timersLeft, leftovers } = await observe(nodes);
      assert.equal(timersLeft, 0, "no timer left behind");
      for (const [i, ambient] of leftovers) {
        const j = leftoverScope(nodes, expected, i);
        assert.equal(ambient, j < 0 ? undefined : scopes[j], `node ${i}: work left behind`);
      }
      assert.equal(
        leftovers.size,
        [...expected.values()].filter((e) => e.record !== undefined).length,
        "every body that ran left work behind",
      );
      for (const [i, exp] of expected) {
        const obs = seen.get(i);
        assert.ok(obs, `node ${i} ran`);
        assert.equal(obs.record, exp.record, `node ${i}: effectiveDeadline()`);
        assert.equal(obs.outcome, exp.outcome, `node ${i}: outcome`);
        assert.equal(obs.exit, exp.exit, `node ${i}: exit time`);
        assert.equal(obs.caught, exp.outcome === "caught", `node ${i}: cancelledCaught`);
        if (obs.caught) assert.equal(obs.cancelCalled, true, `node ${i}: cancelCalled`);
        if (exp.outcome === "parent") {
          assert.equal(
            obs.error,
            scopes[nodes[i].parent].signal.reason,
            `node ${i}: rejected with the parent's cancellation`,
          );
        }
      }
      assert.equal(seen.size, expected.size, "only the modelled nodes ran");
    }),
    { numRuns: 300 },
  );
});

Deno.test("the model of the property test is not vacuous", () => {
  // Guards the generator: the property must see every outcome and both kinds of record.
  const outcomes = new Set<string>();
  fc.assert(
    fc.property(treeArb, (nodes) => {
      const expected = model(nodes);
      for (const [i, e] of expected) {
        outcomes.add(e.outcome);
        if (e.record === -Infinity) outcomes.add("-Infinity");
        else if (e.record !== undefined && e.record !== Infinity) outcomes.add("finite");
        if (e.record === undefined) continue;
        const j = leftoverScope(nodes, expected, i);
        outcomes.add(j < 0 ? "leftover: none" : j === i ? "leftover: own" : "leftover: enclosing");
      }
    }),
    { numRuns: 300, seed: 42 },
  );
  assert.deepEqual([...outcomes].sort(), [
    "-Infinity",
    "caught",
    "done",
    "finite",
    "leftover: enclosing",
    "leftover: none",
    "leftover: own",
    "parent",
  ]);
});
