// The picture writers with cairo (built when CMake finds it: DBN_PICTURES). cairo draws and
// writes the PNG (through its own libpng); nothing here handles libpng's longjmp errors.
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "dbn/core/error.hpp"
#include "dbn/core/output_file.hpp"
#include "dbn/picture/chart.hpp"
#include "dbn/picture/png.hpp"

namespace dbn::picture {

namespace {

struct SurfaceDeleter {
    void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
    void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using Context = std::unique_ptr<cairo_t, ContextDeleter>;

Surface new_surface(const std::string& path, std::size_t width, std::size_t height) {
    DBN_CHECK(width >= 1 && height >= 1 && width <= max_side && height <= max_side, ConfigError,
              path << ": a picture of " << width << "x" << height << " pixels (1 to " << max_side
                   << " a side)");
    Surface s(cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(width),
                                         static_cast<int>(height)));
    const cairo_status_t st = cairo_surface_status(s.get());
    DBN_CHECK(st == CAIRO_STATUS_SUCCESS, IoError,
              path << ": cannot make a picture of " << width << "x" << height << " pixels ("
                   << cairo_status_to_string(st) << ")");
    return s;
}

/// The surface encoded as PNG, in memory; `what` names the picture in errors.
std::string encode(cairo_surface_t* surface, const std::string& what) {
    cairo_surface_flush(surface);
    std::string bytes;
    const auto append = [](void* closure, const unsigned char* data, unsigned int length) {
        static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
        return CAIRO_STATUS_SUCCESS;
    };
    const cairo_status_t st = cairo_surface_write_to_png_stream(surface, append, &bytes);
    DBN_CHECK(st == CAIRO_STATUS_SUCCESS, IoError,
              what << ": cannot encode the picture (" << cairo_status_to_string(st) << ")");
    return bytes;
}

/// Writes PNG bytes with replace_file (temporary file, sync, rename), the project's one way of
/// replacing an output.
void save(const std::string& bytes, const std::string& path) {
    remove_stale_temp_files(path);
    replace_file(path, bytes.data(), bytes.size(), "the picture");
}

// ---- charts ------------------------------------------------------------------------------------

struct Rgb {
    double r, g, b;
};
// The "tab10" palette.
constexpr Rgb palette[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                           {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                           {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
                           {0.090, 0.745, 0.812}};

struct Range {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    void add(double v) {
        if (!std::isfinite(v)) return;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
};

/// 1, 2 or 5 times a power of ten, near range / target.
double nice_step(double range, int target) {
    const double raw = range / target;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

std::string tick_label(double v, double step) {
    if (std::fabs(v) < step * 1e-9) v = 0;
    char buf[64];
    const double mag = std::max(std::fabs(v), step);
    if (mag >= 1e6 || step < 1e-4)
        std::snprintf(buf, sizeof buf, "%.3g", v);
    else
        std::snprintf(buf, sizeof buf, "%.*f",
                      std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))), v);
    return buf;
}

void text_at(cairo_t* cr, const std::string& s, double x, double y, double align_x,
             double align_y) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, s.c_str(), &e);
    cairo_move_to(cr, x - e.x_bearing - align_x * e.width, y - e.y_bearing - align_y * e.height);
    cairo_show_text(cr, s.c_str());
}

void draw_chart(cairo_t* cr, const Chart& chart, double ox, double oy) {
    const double left = ox + 78, right = ox + chart_width - 20;
    const double top = oy + 40, bottom = oy + chart_height - 52;
    Range xr, yr;
    for (const Series& s : chart.series)
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            if (std::isfinite(s.y[i])) {
                xr.add(s.x[i]);
                yr.add(s.y[i]);
            }
    if (!(xr.hi > xr.lo)) {
        xr.lo -= 1;
        xr.hi += 1;
    }
    if (!(yr.hi > yr.lo)) {
        const double pad = std::max(std::fabs(yr.lo) * 0.05, 1e-3);
        yr.lo -= pad;
        yr.hi += pad;
    }
    const double ypad = 0.05 * (yr.hi - yr.lo);
    yr.lo -= ypad;
    yr.hi += ypad;
    const auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * (right - left); };
    const auto py = [&](double y) {
        return bottom - (y - yr.lo) / (yr.hi - yr.lo) * (bottom - top);
    };

    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 15);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, chart.title, (left + right) / 2, oy + 12, 0.5, 0);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);

    // Grid lines and tick labels.
    cairo_set_line_width(cr, 1);
    double xstep = nice_step(xr.hi - xr.lo, 6);
    if (xstep < 1 && chart.x_label == "epoch") xstep = 1;
    for (double t = std::ceil(xr.lo / xstep) * xstep; t <= xr.hi + 1e-9 * xstep; t += xstep) {
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, std::round(px(t)) + 0.5, top);
        cairo_line_to(cr, std::round(px(t)) + 0.5, bottom);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, tick_label(t, xstep), px(t), bottom + 6, 0.5, 0);
    }
    const double ystep = nice_step(yr.hi - yr.lo, 5);
    for (double t = std::ceil(yr.lo / ystep) * ystep; t <= yr.hi + 1e-9 * ystep; t += ystep) {
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, left, std::round(py(t)) + 0.5);
        cairo_line_to(cr, right, std::round(py(t)) + 0.5);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, tick_label(t, ystep), left - 6, py(t), 1, 0.5);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, left + 0.5, top + 0.5, right - left, bottom - top);
    cairo_stroke(cr);

    // Axis labels.
    cairo_set_font_size(cr, 13);
    text_at(cr, chart.x_label, (left + right) / 2, oy + chart_height - 24, 0.5, 0);
    cairo_save(cr);
    cairo_translate(cr, ox + 16, (top + bottom) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, chart.y_label, 0, 0, 0.5, 0.5);
    cairo_restore(cr);

    // The lines, clipped to the plot area, with a dot at every point.
    cairo_save(cr);
    cairo_rectangle(cr, left, top, right - left, bottom - top);
    cairo_clip(cr);
    cairo_set_line_width(cr, 2);
    for (std::size_t k = 0; k < chart.series.size(); ++k) {
        const Series& s = chart.series[k];
        const Rgb c = palette[k % (sizeof palette / sizeof palette[0])];
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
        const double dash[] = {6, 4};
        cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
        bool drawing = false;
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!std::isfinite(s.y[i])) {
                drawing = false;
                continue;
            }
            if (drawing)
                cairo_line_to(cr, px(s.x[i]), py(s.y[i]));
            else
                cairo_move_to(cr, px(s.x[i]), py(s.y[i]));
            drawing = true;
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, dash, 0, 0);
        // Dots mark the epochs of short series (and make a one-epoch series visible).
        if (s.x.size() > 40) continue;
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            if (std::isfinite(s.y[i])) {
                cairo_arc(cr, px(s.x[i]), py(s.y[i]), 2.5, 0, 2 * M_PI);
                cairo_fill(cr);
            }
    }
    cairo_restore(cr);

    // The legend, in the top right corner of the plot area.
    cairo_set_font_size(cr, 12);
    double text_width = 0;
    for (const Series& s : chart.series) {
        cairo_text_extents_t e;
        cairo_text_extents(cr, s.name.c_str(), &e);
        text_width = std::max(text_width, e.x_advance);
    }
    const double row = 18, box_w = text_width + 44, box_h = row * chart.series.size() + 8;
    // The corner of the plot area whose box covers the fewest points.
    double bx = right - box_w - 8, by = top + 8;
    std::size_t best = std::numeric_limits<std::size_t>::max();
    for (const double cx : {right - box_w - 8, left + 8})
        for (const double cy : {top + 8, bottom - box_h - 8}) {
            std::size_t covered = 0;
            for (const Series& s : chart.series)
                for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
                    if (!std::isfinite(s.y[i])) continue;
                    const double x = px(s.x[i]), y = py(s.y[i]);
                    covered +=
                        x >= cx - 4 && x <= cx + box_w + 4 && y >= cy - 4 && y <= cy + box_h + 4;
                }
            if (covered < best) {
                best = covered;
                bx = cx;
                by = cy;
            }
        }
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, bx, by, box_w, box_h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (std::size_t k = 0; k < chart.series.size(); ++k) {
        const Rgb c = palette[k % (sizeof palette / sizeof palette[0])];
        const double y = by + 4 + row * (k + 0.5);
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
        cairo_set_line_width(cr, 2);
        const double dash[] = {6, 4};
        cairo_set_dash(cr, dash, chart.series[k].dashed ? 2 : 0, 0);
        cairo_move_to(cr, bx + 6, y);
        cairo_line_to(cr, bx + 32, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, dash, 0, 0);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, chart.series[k].name, bx + 38, y, 0, 0.5);
    }
}

}  // namespace

bool pictures_available() { return true; }

std::string picture_library() { return std::string("cairo ") + cairo_version_string(); }

std::string png_bytes(const GrayImage& image, const std::string& what) {
    DBN_CHECK(image.pixels.size() == image.width * image.height, ShapeError,
              what << ": a picture of " << image.width << "x" << image.height << " with "
                   << image.pixels.size() << " pixels");
    Surface s = new_surface(what, image.width, image.height);
    unsigned char* data = cairo_image_surface_get_data(s.get());
    const int stride = cairo_image_surface_get_stride(s.get());
    cairo_surface_flush(s.get());
    for (std::size_t r = 0; r < image.height; ++r) {
        auto* row = reinterpret_cast<std::uint32_t*>(data + r * static_cast<std::size_t>(stride));
        for (std::size_t c = 0; c < image.width; ++c) {
            const std::uint32_t g = image.pixels[r * image.width + c];
            row[c] = 0xff000000u | (g << 16) | (g << 8) | g;
        }
    }
    cairo_surface_mark_dirty(s.get());
    return encode(s.get(), what);
}

void write_png(const std::string& path, const GrayImage& image) {
    save(png_bytes(image, path), path);
}

std::string charts_png_bytes(const std::vector<Chart>& charts, std::size_t columns,
                             const std::string& what) {
    DBN_CHECK(!charts.empty(), ConfigError, what << ": no charts to draw");
    columns = std::max<std::size_t>(1, std::min(columns, charts.size()));
    const std::size_t rows = (charts.size() + columns - 1) / columns;
    Surface s = new_surface(what, columns * chart_width, rows * chart_height);
    Context cr(cairo_create(s.get()));
    DBN_CHECK(cairo_status(cr.get()) == CAIRO_STATUS_SUCCESS, IoError,
              what << ": cannot draw (" << cairo_status_to_string(cairo_status(cr.get())) << ")");
    cairo_set_source_rgb(cr.get(), 1, 1, 1);
    cairo_paint(cr.get());
    for (std::size_t i = 0; i < charts.size(); ++i)
        draw_chart(cr.get(), charts[i], static_cast<double>((i % columns) * chart_width),
                   static_cast<double>((i / columns) * chart_height));
    const cairo_status_t st = cairo_status(cr.get());
    DBN_CHECK(st == CAIRO_STATUS_SUCCESS, IoError,
              what << ": cannot draw (" << cairo_status_to_string(st) << ")");
    cr.reset();
    return encode(s.get(), what);
}

void write_charts(const std::string& path, const std::vector<Chart>& charts, std::size_t columns) {
    save(charts_png_bytes(charts, columns, path), path);
}

}  // namespace dbn::picture
