import { describe, expect, it } from 'vitest';
import { parseTemplate, renderTemplate, TemplateError, withWarnings, type Hole } from './template.js';

const holes = (src: string) => parseTemplate(src).filter((p): p is Hole => typeof p !== 'string').map((h) => `${h.name}:${h.ctx}${h.inAttr ? '+attr' : ''}`);
const render = (src: string, values: Record<string, string | boolean | { html: string }>) => renderTemplate(parseTemplate(src), values);

describe('the index template', () => {
  it('finds the context of each hole as Go html/template does', () => {
    expect(holes('<p>{{.A}}</p><div title="{{.B}}" data-x={{.C}} data-cozy=\'{{ .D }}\'>')).toEqual(['A:text', 'B:attr', 'C:attrUnquoted', 'D:attr']);
    expect(holes('<a href="{{.A}}">x</a><a href="//{{.B}}/x?q={{.C}}"><img data-src="{{.D}}">')).toEqual(['A:urlStart+attr', 'B:urlRest+attr', 'C:urlQuery+attr', 'D:urlStart+attr']);
    expect(holes('<script>var a = {{.A}}; var b = "{{.B}}"; // {{/* c */}}\n</script><button onclick="f({{.C}})"><style>p{color:{{.D}}}</style>')).toEqual(['A:js', 'B:jsStr', 'C:js+attr', 'D:css']);
    expect(holes('<!-- {{.Gone}} --><textarea>{{.T}}</textarea><title>{{.N}}</title>')).toEqual(['T:text', 'N:text']);
    expect(holes('<script>var s = "</script><p>{{.A}}</p>')).toEqual(['A:text']);
  });

  it('refuses what it cannot read (the caller then serves the file raw)', () => {
    for (const bad of ['{{.A', '{{if .A}}x{{end}}', '<p {{.A}}>', '<p a{{.A}}="x">', '{{ .A | html }}', '<script>/* {{.A}} */</script>']) {
      expect(() => parseTemplate(bad), bad).toThrow(TemplateError);
    }
  });

  it('escapes each context, inserts trusted HTML raw in text only, renders a missing name empty', () => {
    const v = { A: '<x>"&\'', H: { html: '<link rel="x">' }, T: true };
    expect(render('<p>{{.A}}</p>', v)).toBe('<p>&lt;x&gt;&#34;&amp;&#39;</p>');
    expect(render('<p>{{.H}}</p><i title="{{.H}}">', v)).toBe('<p><link rel="x"></p><i title="&lt;link rel=&#34;x&#34;&gt;">');
    expect(render('<script>a={{.A}};b={{.T}};c="{{.A}}"</script>', v)).toBe('<script>a="\\u003cx\\u003e\\"\\u0026\\u0027";b=true;c="\\u003cx\\u003e\\u0022\\u0026\\u0027"</script>');
    expect(render('<a href="{{.U}}">', { U: 'javascript:alert(1)' })).toBe('<a href="#ZgotmplZ">');
    expect(render('<a href="{{.U}}">', { U: 'https://x.org/a b' })).toBe('<a href="https://x.org/a%20b">');
    expect(render('<a href="/s?q={{.U}}">', { U: 'a&b=c d' })).toBe('<a href="/s?q=a%26b%3Dc%20d">');
    expect(render('<p data-x={{.A}}>', { A: 'a b=c' })).toBe('<p data-x=a&#32;b&#61;c>');
    expect(render('<p>{{.Nope}}</p>', {})).toBe('<p></p>');
  });

  it('puts the warnings before </head>, or in a head before <body>, or first', () => {
    expect(withWarnings('<html><head><title>x</title></HEAD><body>')).toBe('<html><head><title>x</title>{{.Warnings}}</HEAD><body>');
    expect(withWarnings('<html><body class="a">')).toBe('<html><head>{{.Warnings}}</head><body class="a">');
    expect(withWarnings('<p>x</p>')).toBe('{{.Warnings}}<p>x</p>');
  });
});
