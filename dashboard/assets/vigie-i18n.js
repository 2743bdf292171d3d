// Times in AG Grid cells, as dashboard/components/when.py writes them on pages (i18n/formats.py):
// relative ("12 min ago", "il y a 12 min"), SLA deadlines ("in 25 min", "overdue by 1 h 10"),
// and the local date, time and offset for tooltips. The page gives the reader's language and
// time zone as the grid's context; the words come from window.vigieI18nWords, which the page
// fills from the gettext catalogue (grid_words() in when.py), so nothing here is English-only.
(function () {
  function words(ctx) { return (ctx && ctx.words) || {}; }
  function fill(text, values) {
    return String(text).replace(/\{(\w+)(?::02d)?\}/g, function (_m, k) {
      var v = values[k];
      return (/02d/.test(_m) && v < 10) ? "0" + v : String(v);
    });
  }
  function parse(value) {
    if (!value) { return null; }
    var s = String(value);
    if (!/[zZ]|[+-]\d\d:?\d\d$/.test(s)) { s += "Z"; }  // stored times are UTC
    var d = new Date(s);
    return isNaN(d.getTime()) ? null : d;
  }
  function duration(seconds, ctx) {
    var w = words(ctx), minutes = Math.max(0, Math.floor(seconds / 60));
    var days = Math.floor(minutes / 1440), rest = minutes % 1440;
    var hours = Math.floor(rest / 60), mins = rest % 60;
    if (days) { return hours ? fill(w.dh, {days: days, hours: hours}) : fill(w.d, {days: days}); }
    if (hours) { return mins ? fill(w.hm, {hours: hours, minutes: mins}) : fill(w.h, {hours: hours}); }
    return fill(w.m, {minutes: mins});
  }
  function local(value, ctx) {
    var d = parse(value);
    if (!d || !ctx) { return ""; }
    var lang = ctx.language, zone = ctx.zone;
    var day = new Intl.DateTimeFormat(lang, {timeZone: zone, day: "numeric", month: "short", year: "numeric"}).format(d);
    var time = new Intl.DateTimeFormat(lang, {timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23"}).format(d);
    var parts = new Intl.DateTimeFormat("en-GB", {timeZone: zone, timeZoneName: "longOffset"}).formatToParts(d);
    var name = (parts.find(function (p) { return p.type === "timeZoneName"; }) || {}).value || "GMT";
    var offset = name === "GMT" ? "+00:00" : name.replace("GMT", "");
    return day + ", " + time + " UTC" + offset;
  }
  function when(value, ctx) {
    var d = parse(value);
    if (!d || !ctx) { return value ? "" : "—"; }
    var w = words(ctx), delta = (d.getTime() - Date.now()) / 1000;
    if (Math.abs(delta) < 60) { return w.now; }
    if (Math.abs(delta) > 7 * 86400) {
      return new Intl.DateTimeFormat(ctx.language, {timeZone: ctx.zone, day: "numeric", month: "short", year: "numeric"}).format(d);
    }
    var span = duration(Math.abs(delta), ctx);
    return delta > 0 ? fill(w.in, {duration: span}) : fill(w.ago, {duration: span});
  }
  function due(value, ctx) {
    var d = parse(value);
    if (!d || !ctx) { return "—"; }
    var w = words(ctx), left = (d.getTime() - Date.now()) / 1000;
    if (Math.abs(left) < 60) { return w.due_now; }
    return left > 0 ? fill(w.in, {duration: duration(left, ctx)}) : fill(w.overdue, {duration: duration(-left, ctx)});
  }
  function safe(fn) {  // a zone the browser does not know: the times in UTC rather than an empty grid
    return function (value, ctx) {
      try { return fn(value, ctx); } catch (e) {
        if (ctx && ctx.zone !== "UTC") { return fn(value, Object.assign({}, ctx, {zone: "UTC"})); }
        return "";
      }
    };
  }
  window.vigieI18n = {when: safe(when), due: safe(due), local: safe(local), duration: duration};
}());
