// Command anp-conformance transcribes the conformance suite of sigs.k8s.io/network-policy-api v0.1.x
// (AdminNetworkPolicy and BaselineAdminNetworkPolicy) into a JSON digest: per test, its manifests, the
// mutations it makes and every PokeServer probe with its expectation.
//
//	go run . MODULE_DIR > ../../upstream/anp-conformance-v0.1.1/cases.json
//
// MODULE_DIR is the module's folder as hack/upstream.sh prints it (network-policy-api v0.1.1). The Go
// sources are read with go/parser and interpreted statement by statement in source order, the way
// upstream/conformance-v0.3.0/cases.json was made: t.Run opens a subtest, s.Client.Get binds a variable
// to an object, assignments to a policy's Spec are collected until s.Client.Update writes them,
// s.Client.Delete deletes, and PokeServer is a probe whose expectation is its shouldConnect argument. A
// new step starts at the first probe after one or more mutations. Any statement this reader does not
// know stops it with an error: nothing is skipped silently.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

type Digest struct {
	About    string  `json:"about"`
	Module   string  `json:"module"`
	Counts   Counts  `json:"counts"`
	Cases    []*Case `json:"cases"`
	HowBuilt string  `json:"howBuilt"`
}

type Counts struct {
	Cases  int            `json:"cases"`
	Probes int            `json:"probes"`
	Steps  int            `json:"steps"`
	Expect map[string]int `json:"probesByExpect"`
}

type Case struct {
	Name        string   `json:"name"`
	GoFile      string   `json:"goFile"`
	Description string   `json:"description"`
	Features    []string `json:"features"`
	Manifests   []string `json:"manifests"`
	Subtests    []string `json:"subtests"`
	Steps       []*Step  `json:"steps"`
	Probes      []*Probe `json:"probes"`
}

type Step struct {
	Step            int         `json:"step"`
	MutationsBefore []*Mutation `json:"mutationsBefore"`
}

type Mutation struct {
	Kind      string `json:"kind"`
	Policy    string `json:"policy,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Subtest   string `json:"subtest"`
	Ops       []*Op  `json:"ops,omitempty"`
	GoLine    int    `json:"goLine"`
}

type Op struct {
	Op        string `json:"op"`
	Direction string `json:"direction,omitempty"`
	Indices   []int  `json:"indices,omitempty"`
	Index     *int   `json:"index,omitempty"`
	Action    string `json:"action,omitempty"`
	Priority  *int   `json:"priority,omitempty"`
}

type Probe struct {
	Step     int    `json:"step"`
	Subtest  string `json:"subtest"`
	From     string `json:"from"`
	To       string `json:"to"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	Expect   string `json:"expect"`
	GoLine   int    `json:"goLine"`
}

// The object kinds a test declares variables of (`x := &v1.Pod{}`), by the Go type's name.
var kinds = map[string]string{
	"Pod":                        "Pod",
	"NetworkPolicy":              "NetworkPolicy",
	"AdminNetworkPolicy":         "AdminNetworkPolicy",
	"BaselineAdminNetworkPolicy": "BaselineAdminNetworkPolicy",
}

// slot is what a rule position holds while a test edits a policy: the rule that was at position
// `orig` when the policy was read, with its action possibly replaced.
type slot struct {
	orig   int
	action string
}

type object struct {
	kind      string
	namespace string
	name      string
	bound     bool
	slots     map[string]map[int]slot
	priority  *int
}

func (o *object) reset() {
	o.slots = map[string]map[int]slot{"ingress": {}, "egress": {}}
	o.priority = nil
}

func (o *object) read(dir string, i int) slot {
	if s, ok := o.slots[dir][i]; ok {
		return s
	}
	return slot{orig: i}
}

type reader struct {
	fset      *token.FileSet
	consts    map[string]string
	c         *Case
	vars      map[string]*object
	temps     map[string]slot
	tempOwner map[string]*object
	pending   []*Mutation
	subtest   string
}

func fail(fset *token.FileSet, n ast.Node, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", fset.Position(n.Pos()), fmt.Sprintf(format, args...))
	os.Exit(1)
}

func (r *reader) line(n ast.Node) int { return r.fset.Position(n.Pos()).Line }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: anp-conformance MODULE_DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	fset := token.NewFileSet()
	consts := readConsts(fset, filepath.Join(dir, "apis", "v1alpha1"))
	files, err := filepath.Glob(filepath.Join(dir, "conformance", "tests", "*.go"))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(os.Stderr, "no Go files under %s/conformance/tests\n", dir)
		os.Exit(1)
	}
	sort.Strings(files)
	module := strings.TrimSpace(readModuleLine(dir))
	d := &Digest{
		About: "Machine-readable digest of the AdminNetworkPolicy / BaselineAdminNetworkPolicy conformance suite of " + module +
			" (conformance/tests/*.go). Derived data: each probe's expect is the shouldConnect argument of its PokeServer call " +
			"(true = allow, false = deny); its target is the pod last read into the variable whose Status.PodIP the call passes. " +
			"Mutations are the policy edits written by s.Client.Update (rule swaps, actions, priority) and s.Client.Delete calls, " +
			"in source order; they persist across the subtests of a test. Objects come from the test's manifests (conformance/base), " +
			"which are not copied here.",
		Module:   module,
		HowBuilt: "hack/anp-conformance (go/parser over the module's conformance/tests and apis/v1alpha1 constants); a new step starts at the first probe after one or more mutations",
		Counts:   Counts{Expect: map[string]int{"allow": 0, "deny": 0}},
	}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, c := range readFile(fset, consts, f, "conformance/tests/"+filepath.Base(path)) {
			d.Cases = append(d.Cases, c)
			d.Counts.Cases++
			d.Counts.Probes += len(c.Probes)
			d.Counts.Steps += len(c.Steps)
			for _, p := range c.Probes {
				d.Counts.Expect[p.Expect]++
			}
		}
	}
	out, _ := json.MarshalIndent(d, "", "  ")
	os.Stdout.Write(append(out, '\n'))
}

func readModuleLine(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "MODULE"))
	if err != nil {
		return "sigs.k8s.io/network-policy-api"
	}
	fields := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			fields[k] = v
		}
	}
	return fields["module"] + "@" + fields["version"] + " (" + fields["sum"] + ")"
}

// readConsts collects the string constants of apis/v1alpha1 (e.g. AdminNetworkPolicyRuleActionPass = "Pass").
func readConsts(fset *token.FileSet, dir string) map[string]string {
	consts := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	return consts
}

// readFile finds every `var X = suite.ConformanceTest{...}` in a test file and reads it.
func readFile(fset *token.FileSet, consts map[string]string, f *ast.File, goFile string) []*Case {
	var cases []*Case
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for _, v := range vs.Values {
				lit, ok := v.(*ast.CompositeLit)
				if !ok || selectorText(lit.Type) != "suite.ConformanceTest" {
					continue
				}
				cases = append(cases, readTest(fset, consts, lit, goFile))
			}
		}
	}
	return cases
}

func readTest(fset *token.FileSet, consts map[string]string, lit *ast.CompositeLit, goFile string) *Case {
	c := &Case{GoFile: goFile, Features: []string{}, Manifests: []string{}, Subtests: []string{}, Steps: []*Step{}, Probes: []*Probe{}}
	var body *ast.BlockStmt
	for _, e := range lit.Elts {
		kv := e.(*ast.KeyValueExpr)
		switch kv.Key.(*ast.Ident).Name {
		case "ShortName":
			c.Name = stringLit(fset, kv.Value)
		case "Description":
			c.Description = stringLit(fset, kv.Value)
		case "Features":
			for _, f := range kv.Value.(*ast.CompositeLit).Elts {
				c.Features = append(c.Features, f.(*ast.SelectorExpr).Sel.Name)
			}
		case "Manifests":
			for _, m := range kv.Value.(*ast.CompositeLit).Elts {
				c.Manifests = append(c.Manifests, stringLit(fset, m))
			}
		case "Test":
			body = kv.Value.(*ast.FuncLit).Body
		default:
			fail(fset, kv, "unknown ConformanceTest field %s", kv.Key.(*ast.Ident).Name)
		}
	}
	if body == nil {
		fail(fset, lit, "ConformanceTest %s has no Test function", c.Name)
	}
	r := &reader{fset: fset, consts: consts, c: c, vars: map[string]*object{}}
	r.block(body)
	if len(r.pending) > 0 {
		// Mutations after the last probe change nothing a probe sees; they still form a step.
		c.Steps = append(c.Steps, &Step{Step: len(c.Steps), MutationsBefore: r.pending})
	}
	return c
}

func (r *reader) block(b *ast.BlockStmt) {
	for _, st := range b.List {
		r.stmt(st)
	}
}

func (r *reader) stmt(st ast.Stmt) {
	switch s := st.(type) {
	case *ast.DeferStmt:
		if exprText(s.Call.Fun) != "cancel" {
			fail(r.fset, s, "unknown defer")
		}
	case *ast.ExprStmt:
		call, ok := s.X.(*ast.CallExpr)
		if !ok {
			fail(r.fset, s, "unknown expression statement")
		}
		r.call(call, nil)
	case *ast.AssignStmt:
		r.assign(s)
	default:
		fail(r.fset, st, "unknown statement %T", st)
	}
}

// call handles a call whose results are ignored or assigned to lhs.
func (r *reader) call(call *ast.CallExpr, lhs []ast.Expr) {
	fn := exprText(call.Fun)
	switch fn {
	case "t.Run":
		fl := call.Args[1].(*ast.FuncLit)
		saved := r.subtest
		r.subtest = stringLit(r.fset, call.Args[0])
		r.c.Subtests = append(r.c.Subtests, r.subtest)
		r.block(fl.Body)
		r.subtest = saved
	case "framework.ExpectNoError", "assert.Equal", "t.Logf":
	case "context.WithTimeout":
	case "s.Client.Get":
		r.get(call)
	case "s.Client.Update":
		r.update(call)
	case "s.Client.Delete":
		o := r.object(call.Args[1])
		r.pending = append(r.pending, &Mutation{Kind: "delete" + o.kind, Namespace: o.namespace, Name: o.name, Subtest: r.subtest, GoLine: r.line(call)})
	case "kubernetes.PokeServer":
		r.probe(call)
	default:
		fail(r.fset, call, "unknown call %s", fn)
	}
}

func (r *reader) object(e ast.Expr) *object {
	id, ok := e.(*ast.Ident)
	if !ok {
		fail(r.fset, e, "expected a variable")
	}
	o := r.vars[id.Name]
	if o == nil {
		fail(r.fset, e, "unknown variable %s", id.Name)
	}
	return o
}

func (r *reader) get(call *ast.CallExpr) {
	key := call.Args[1].(*ast.CompositeLit)
	if selectorText(key.Type) != "client.ObjectKey" {
		fail(r.fset, key, "expected client.ObjectKey")
	}
	o := r.object(call.Args[2])
	o.namespace, o.name = "", ""
	for _, e := range key.Elts {
		kv := e.(*ast.KeyValueExpr)
		switch kv.Key.(*ast.Ident).Name {
		case "Namespace":
			o.namespace = stringLit(r.fset, kv.Value)
		case "Name":
			o.name = stringLit(r.fset, kv.Value)
		default:
			fail(r.fset, kv, "unknown ObjectKey field")
		}
	}
	o.bound = true
	o.reset()
}

func (r *reader) update(call *ast.CallExpr) {
	o := r.object(call.Args[1])
	if !o.bound || (o.kind != "AdminNetworkPolicy" && o.kind != "BaselineAdminNetworkPolicy") {
		fail(r.fset, call, "Update of something that is not a policy read before")
	}
	m := &Mutation{Kind: "update" + o.kind, Policy: o.name, Subtest: r.subtest, GoLine: r.line(call)}
	for _, dir := range []string{"ingress", "egress"} {
		var moved []int
		for i, s := range o.slots[dir] {
			if s.orig != i {
				moved = append(moved, i)
			}
		}
		sort.Ints(moved)
		switch {
		case len(moved) == 0:
		case len(moved) == 2 && o.read(dir, moved[0]).orig == moved[1] && o.read(dir, moved[1]).orig == moved[0]:
			m.Ops = append(m.Ops, &Op{Op: "swapRules", Direction: dir, Indices: moved})
		default:
			fail(r.fset, call, "rule moves in %s other than one swap: %v", dir, moved)
		}
		var acted []int
		for i, s := range o.slots[dir] {
			if s.action != "" {
				acted = append(acted, i)
			}
		}
		sort.Ints(acted)
		for _, i := range acted {
			i := i
			m.Ops = append(m.Ops, &Op{Op: "setAction", Direction: dir, Index: &i, Action: o.slots[dir][i].action})
		}
	}
	if o.priority != nil {
		m.Ops = append(m.Ops, &Op{Op: "setPriority", Priority: o.priority})
	}
	if len(m.Ops) == 0 {
		fail(r.fset, call, "Update without a change")
	}
	r.pending = append(r.pending, m)
	o.reset() // the variable now holds what the cluster holds
}

func (r *reader) probe(call *ast.CallExpr) {
	if len(call.Args) != 8 {
		fail(r.fset, call, "PokeServer with %d arguments", len(call.Args))
	}
	target := exprText(call.Args[4])
	name, ok := strings.CutSuffix(target, ".Status.PodIP")
	if !ok {
		fail(r.fset, call, "PokeServer target %s is not a pod's Status.PodIP", target)
	}
	o := r.vars[name]
	if o == nil || o.kind != "Pod" || !o.bound {
		fail(r.fset, call, "PokeServer target %s is not a pod read before", name)
	}
	port := call.Args[5].(*ast.CallExpr)
	if exprText(port.Fun) != "int32" {
		fail(r.fset, port, "port is not int32(N)")
	}
	portNumber, err := strconv.Atoi(port.Args[0].(*ast.BasicLit).Value)
	if err != nil {
		fail(r.fset, port, "port is not a number")
	}
	expect := map[string]string{"true": "allow", "false": "deny"}[exprText(call.Args[7])]
	if expect == "" {
		fail(r.fset, call, "shouldConnect is not true or false")
	}
	if len(r.pending) > 0 || len(r.c.Steps) == 0 {
		mutations := r.pending
		if mutations == nil {
			mutations = []*Mutation{}
		}
		r.c.Steps = append(r.c.Steps, &Step{Step: len(r.c.Steps), MutationsBefore: mutations})
		r.pending = nil
	}
	r.c.Probes = append(r.c.Probes, &Probe{
		Step:     len(r.c.Steps) - 1,
		Subtest:  r.subtest,
		From:     stringLit(r.fset, call.Args[1]) + "/" + stringLit(r.fset, call.Args[2]),
		To:       o.namespace + "/" + o.name,
		Port:     portNumber,
		Protocol: strings.ToUpper(stringLit(r.fset, call.Args[3])),
		Expect:   expect,
		GoLine:   r.line(call),
	})
}

func (r *reader) assign(s *ast.AssignStmt) {
	if len(s.Rhs) == 1 {
		if call, ok := s.Rhs[0].(*ast.CallExpr); ok {
			r.call(call, s.Lhs)
			return
		}
	}
	if len(s.Lhs) != 1 || len(s.Rhs) != 1 {
		fail(r.fset, s, "unknown assignment")
	}
	lhs, rhs := s.Lhs[0], s.Rhs[0]
	// x := &v1.Pod{}
	if u, ok := rhs.(*ast.UnaryExpr); ok && u.Op == token.AND {
		lit := u.X.(*ast.CompositeLit)
		kind := kinds[lit.Type.(*ast.SelectorExpr).Sel.Name]
		if kind == "" || len(lit.Elts) != 0 {
			fail(r.fset, s, "unknown object type")
		}
		o := &object{kind: kind}
		o.reset()
		r.vars[lhs.(*ast.Ident).Name] = o
		return
	}
	// tmp := x.DeepCopy().Spec.Egress[0]
	if id, ok := lhs.(*ast.Ident); ok && s.Tok == token.DEFINE {
		o, dir, i := r.ruleRef(rhs, true)
		if r.temps == nil {
			r.temps, r.tempOwner = map[string]slot{}, map[string]*object{}
		}
		r.temps[id.Name], r.tempOwner[id.Name] = o.read(dir, i), o
		return
	}
	// x.Spec.Priority = 40
	if exprTextOK(lhs) != "" && strings.HasSuffix(exprText(lhs), ".Spec.Priority") {
		o := r.vars[strings.TrimSuffix(exprText(lhs), ".Spec.Priority")]
		lit, ok := rhs.(*ast.BasicLit)
		if o == nil || !ok || lit.Kind != token.INT {
			fail(r.fset, s, "unknown priority assignment")
		}
		p, _ := strconv.Atoi(lit.Value)
		o.priority = &p
		return
	}
	// x.Spec.Ingress[0].Action = v1alpha1.AdminNetworkPolicyRuleActionPass
	if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Action" {
		o, dir, i := r.ruleRef(sel.X, false)
		value, ok := r.consts[selectorName(rhs)]
		if !ok {
			fail(r.fset, rhs, "unknown action constant")
		}
		cur := o.read(dir, i)
		cur.action = value
		o.slots[dir][i] = cur
		return
	}
	// x.Spec.Egress[0] = x.DeepCopy().Spec.Egress[1]   or   x.Spec.Egress[1] = tmp
	o, dir, i := r.ruleRef(lhs, false)
	if id, ok := rhs.(*ast.Ident); ok {
		v, ok := r.temps[id.Name]
		if !ok || r.tempOwner[id.Name] != o {
			fail(r.fset, rhs, "unknown rule temporary %s", id.Name)
		}
		o.slots[dir][i] = v
		return
	}
	src, sdir, j := r.ruleRef(rhs, true)
	if src != o || sdir != dir {
		fail(r.fset, s, "rule copied between policies or directions")
	}
	o.slots[dir][i] = o.read(dir, j)
}

// ruleRef reads `x.Spec.Egress[N]` (or `x.DeepCopy().Spec.Egress[N]` when copy is set).
func (r *reader) ruleRef(e ast.Expr, copy bool) (*object, string, int) {
	idx, ok := e.(*ast.IndexExpr)
	if !ok {
		fail(r.fset, e, "expected a rule reference")
	}
	path := exprText(idx.X)
	var base, dir string
	for _, d := range []string{"Ingress", "Egress"} {
		if b, ok := strings.CutSuffix(path, ".Spec."+d); ok {
			base, dir = b, strings.ToLower(d)
		}
	}
	if dir == "" {
		fail(r.fset, e, "expected .Spec.Ingress[N] or .Spec.Egress[N]")
	}
	if copy {
		b, ok := strings.CutSuffix(base, ".DeepCopy()")
		if !ok {
			fail(r.fset, e, "expected a read through DeepCopy()")
		}
		base = b
	}
	o := r.vars[base]
	if o == nil || !o.bound {
		fail(r.fset, e, "rule of an unknown policy %s", base)
	}
	lit, ok := idx.Index.(*ast.BasicLit)
	if !ok || lit.Kind != token.INT {
		fail(r.fset, e, "rule index is not a number")
	}
	i, _ := strconv.Atoi(lit.Value)
	return o, dir, i
}

func stringLit(fset *token.FileSet, e ast.Expr) string {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		fail(fset, e, "expected a string literal")
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		fail(fset, e, "bad string literal")
	}
	return s
}

func selectorText(e ast.Expr) string { return exprTextOK(e) }

func selectorName(e ast.Expr) string {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		return sel.Sel.Name
	}
	return ""
}

func exprText(e ast.Expr) string {
	t := exprTextOK(e)
	if t == "" {
		return fmt.Sprintf("<%T>", e)
	}
	return t
}

// exprTextOK renders identifiers, selectors and argument-less calls (x.DeepCopy()); "" for anything else.
func exprTextOK(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		base := exprTextOK(x.X)
		if base == "" {
			return ""
		}
		return base + "." + x.Sel.Name
	case *ast.CallExpr:
		if len(x.Args) != 0 {
			return ""
		}
		base := exprTextOK(x.Fun)
		if base == "" {
			return ""
		}
		return base + "()"
	}
	return ""
}
