// Pool/eltwise unit of the engine: POOL (max, average, global average) and ADD (residual add
// with both inputs rescaled), L lanes wide, one input word per cycle (docs/engine.md). Each lane
// has one multiplier, used by ADD for (x - zp) * m; pooling passes x - zp through.
module gatec_pool_unit #(
  parameter int unsigned L            = 8,
  parameter int unsigned InAddrWidth  = 16,
  parameter int unsigned OutAddrWidth = 16
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    start_i,
  input  logic [511:0]            instr_i,
  output logic                    busy_o,
  output logic                    in_re_o,
  output logic [InAddrWidth-1:0]  in_addr_o,
  input  logic [L*8-1:0]          in_word_i,
  input  logic                    wr_busy_i,
  output logic                    res_valid_o,
  output logic [L*32-1:0]         res_acc_o,
  output logic [14:0]             res_mult_o,
  output logic [5:0]              res_shift_o,
  output logic [OutAddrWidth-1:0] res_addr_o,
  output logic signed [7:0]       zp_out_o,
  output logic signed [7:0]       lo_o,
  output logic signed [7:0]       hi_o
);
  localparam int unsigned AW = 24;
  localparam int unsigned CW = 18;
  localparam logic [3:0] OpAdd = 4'd5;

  typedef enum logic [1:0] {SIdle, SRun, SDrain} state_e;
  state_e state_q;

  logic [15:0] h [32];
  always_comb begin
    for (int unsigned k = 0; k < 32; k++) h[k] = instr_i[16*k +: 16];
  end

  logic is_add_q, is_max_q;
  logic [15:0] img_h_q, img_w_q, in_pitch_q, ncg_q, ncg_out_q, oy_cnt_q, out_w_q, out_pitch_q;
  logic [15:0] pitch_sh_q, ncg_sw_q, cw_stride_q, out_cw_stride_q;
  logic signed [AW-1:0] b_off_q;
  logic [7:0]  kh_q, kw_q, sh_q, sw_q, pl_q;
  logic signed [7:0] zp_a_q, zp_b_q;
  logic [14:0] mult_a_q, mult_b_q;

  // loop state: POOL walks oy, ox, cg, ky, kx; ADD walks rows (oy), words (ox), operand (kx)
  logic [15:0] oy_q, ox_q, cg_q;
  logic [7:0]  ky_q, kx_q;
  logic signed [AW-1:0] a_row_q, a_pix_q, a_cg_q, a_trow_q, a_cur_q;
  logic signed [CW-1:0] iy_row_q, iy_q, ix_pix_q, ix_q;
  logic [AW-1:0] o_row_q, o_pix_q, o_cur_q;

  logic last_kx, last_ky, last_cg, last_ox, last_oy, issue, tap_pad;
  assign last_kx = is_add_q ? (kx_q == 8'd1) : (kx_q == kw_q - 8'd1);
  assign last_ky = is_add_q || (ky_q == kh_q - 8'd1);
  assign last_cg = is_add_q || (cg_q == ncg_q - 16'd1);
  assign last_ox = (ox_q == out_w_q - 16'd1);
  assign last_oy = (oy_q == oy_cnt_q - 16'd1);
  assign issue   = (state_q == SRun);
  assign tap_pad = !is_add_q && ((iy_q < 0) || (iy_q >= $signed({2'b00, img_h_q})) ||
                                 (ix_q < 0) || (ix_q >= $signed({2'b00, img_w_q})));

  logic v1_q, pad1_q, first1_q, last1_q, b1_q, res_valid_q;
  logic [OutAddrWidth-1:0] oaddr1_q, res_addr_q;
  assign busy_o = (state_q != SIdle);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= SIdle;
      is_add_q <= 1'b0; is_max_q <= 1'b0;
    end else begin
      case (state_q)
        SIdle: if (start_i) begin
          is_add_q    <= (h[0][3:0] == OpAdd);
          is_max_q    <= (h[0][3:0] != OpAdd) && !h[31][8];
          img_h_q     <= h[4];
          img_w_q     <= h[5];
          in_pitch_q  <= h[6];
          out_pitch_q <= h[22];
          zp_out_o    <= h[25][7:0];
          lo_o        <= h[26][7:0];
          hi_o        <= h[27][7:0];
          oy_q <= '0; ox_q <= '0; cg_q <= '0; ky_q <= '0; kx_q <= '0;
          if (h[0][3:0] == OpAdd) begin
            oy_cnt_q <= h[4];
            out_w_q  <= h[5];
            ncg_q    <= 16'd1;
            zp_a_q   <= h[24][7:0];
            zp_b_q   <= h[28][7:0];
            mult_a_q <= h[29][14:0];
            mult_b_q <= h[30][14:0];
            res_shift_o <= h[31][5:0];
            res_mult_o  <= 15'd1;
            b_off_q  <= AW'(h[3]) - AW'(h[2]);
            o_row_q  <= AW'(h[21]);
            o_pix_q  <= AW'(h[21]);
            o_cur_q  <= AW'(h[21]);
            a_row_q  <= AW'(h[2]);
            a_cur_q  <= AW'(h[2]);
          end else begin
            ncg_q      <= h[7];
            ncg_out_q  <= h[23];
            cw_stride_q     <= h[8];
            out_cw_stride_q <= h[9];
            // a concat input lands at its channel-word offset within wider output pixels
            o_row_q    <= AW'(h[21]) + AW'(h[20]);
            o_pix_q    <= AW'(h[21]) + AW'(h[20]);
            o_cur_q    <= AW'(h[21]) + AW'(h[20]);
            oy_cnt_q   <= h[11];
            out_w_q    <= h[12];
            {kw_q, kh_q} <= h[13];
            {sw_q, sh_q} <= h[14];
            pl_q       <= h[15][15:8];
            zp_a_q     <= h[24][7:0];
            pitch_sh_q <= h[28];
            ncg_sw_q   <= h[29];
            res_mult_o  <= h[30][14:0];
            res_shift_o <= h[31][5:0];
            a_row_q  <= AW'($signed({h[3], h[2]}));
            a_pix_q  <= AW'($signed({h[3], h[2]}));
            a_cg_q   <= AW'($signed({h[3], h[2]}));
            a_trow_q <= AW'($signed({h[3], h[2]}));
            a_cur_q  <= AW'($signed({h[3], h[2]}));
            iy_row_q <= CW'($signed(h[10]));
            iy_q     <= CW'($signed(h[10]));
            ix_pix_q <= -(CW'(h[15][15:8]));
            ix_q     <= -(CW'(h[15][15:8]));
          end
          state_q <= SRun;
        end
        SRun: begin
          if (is_add_q) begin
            // operand b is read at the same offset from b_base as operand a from a_base
            if (kx_q == 8'd0) begin
              kx_q <= 8'd1;
            end else begin
              kx_q <= 8'd0;
              if (!last_ox) begin
                ox_q    <= ox_q + 16'd1;
                a_cur_q <= a_cur_q + AW'(1);
                o_cur_q <= o_cur_q + AW'(1);
              end else if (!last_oy) begin
                ox_q    <= '0;
                oy_q    <= oy_q + 16'd1;
                a_row_q <= a_row_q + AW'(in_pitch_q);
                a_cur_q <= a_row_q + AW'(in_pitch_q);
                o_row_q <= o_row_q + AW'(out_pitch_q);
                o_cur_q <= o_row_q + AW'(out_pitch_q);
              end else begin
                state_q <= SDrain;
              end
            end
          end else if (!last_kx) begin
            kx_q    <= kx_q + 8'd1;
            a_cur_q <= a_cur_q + AW'(ncg_q);
            ix_q    <= ix_q + CW'(1);
          end else if (!last_ky) begin
            kx_q     <= '0;
            ky_q     <= ky_q + 8'd1;
            a_trow_q <= a_trow_q + AW'(in_pitch_q);
            a_cur_q  <= a_trow_q + AW'(in_pitch_q);
            iy_q     <= iy_q + CW'(1);
            ix_q     <= ix_pix_q;
          end else begin
            kx_q <= '0;
            ky_q <= '0;
            iy_q <= iy_row_q;
            ix_q <= ix_pix_q;
            if (!last_cg) begin
              cg_q     <= cg_q + 16'd1;
              a_cg_q   <= a_cg_q + AW'(cw_stride_q);
              a_trow_q <= a_cg_q + AW'(cw_stride_q);
              a_cur_q  <= a_cg_q + AW'(cw_stride_q);
              o_cur_q  <= o_cur_q + AW'(out_cw_stride_q);
            end else if (!last_ox) begin
              cg_q     <= '0;
              ox_q     <= ox_q + 16'd1;
              a_pix_q  <= a_pix_q + AW'(ncg_sw_q);
              a_cg_q   <= a_pix_q + AW'(ncg_sw_q);
              a_trow_q <= a_pix_q + AW'(ncg_sw_q);
              a_cur_q  <= a_pix_q + AW'(ncg_sw_q);
              ix_pix_q <= ix_pix_q + CW'(sw_q);
              ix_q     <= ix_pix_q + CW'(sw_q);
              o_pix_q  <= o_pix_q + AW'(ncg_out_q);
              o_cur_q  <= o_pix_q + AW'(ncg_out_q);
            end else if (!last_oy) begin
              cg_q     <= '0;
              ox_q     <= '0;
              oy_q     <= oy_q + 16'd1;
              a_row_q  <= a_row_q + AW'(pitch_sh_q);
              a_pix_q  <= a_row_q + AW'(pitch_sh_q);
              a_cg_q   <= a_row_q + AW'(pitch_sh_q);
              a_trow_q <= a_row_q + AW'(pitch_sh_q);
              a_cur_q  <= a_row_q + AW'(pitch_sh_q);
              iy_row_q <= iy_row_q + CW'(sh_q);
              iy_q     <= iy_row_q + CW'(sh_q);
              ix_pix_q <= -(CW'(pl_q));
              ix_q     <= -(CW'(pl_q));
              o_row_q  <= o_row_q + AW'(out_pitch_q);
              o_pix_q  <= o_row_q + AW'(out_pitch_q);
              o_cur_q  <= o_row_q + AW'(out_pitch_q);
            end else begin
              state_q <= SDrain;
            end
          end
        end
        SDrain: if (!(v1_q || res_valid_q || wr_busy_i)) state_q <= SIdle;
        default: state_q <= SIdle;
      endcase
    end
  end

  assign in_re_o   = issue;
  assign in_addr_o = InAddrWidth'(a_cur_q + ((is_add_q && kx_q == 8'd1) ? b_off_q : '0));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) v1_q <= 1'b0;
    else v1_q <= issue;
  end

  always_ff @(posedge clk_i) begin
    pad1_q   <= tap_pad;
    first1_q <= (kx_q == '0) && (ky_q == '0);
    last1_q  <= last_kx && last_ky;
    b1_q     <= is_add_q && (kx_q == 8'd1);
    oaddr1_q <= OutAddrWidth'(o_cur_q);
  end

  // Lane datapath on the word read in the previous cycle. Max pooling ignores padding (the
  // smallest int32 stands for "nothing yet"), average pooling counts it as real zero.
  logic signed [7:0]  zp_t;
  logic [14:0]        mult_t;
  logic [L*32-1:0]    acc_q, acc_next;
  assign zp_t   = b1_q ? zp_b_q : zp_a_q;
  assign mult_t = b1_q ? mult_b_q : mult_a_q;

  always_comb begin
    for (int unsigned c = 0; c < L; c++) begin
      logic signed [8:0]  v;
      logic signed [31:0] term, prev;
      v    = 9'($signed(in_word_i[c*8 +: 8])) - 9'($signed(zp_t));
      term = is_add_q ? 32'($signed(v) * $signed({1'b0, mult_t})) : 32'(v);
      prev = acc_q[c*32 +: 32];
      if (is_max_q) begin
        if (first1_q) acc_next[c*32 +: 32] = pad1_q ? 32'sh8000_0000 : term;
        else acc_next[c*32 +: 32] = (pad1_q || prev >= term) ? prev : term;
      end else begin
        acc_next[c*32 +: 32] = (first1_q ? 32'sd0 : prev) + (pad1_q ? 32'sd0 : term);
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) res_valid_q <= 1'b0;
    else res_valid_q <= v1_q && last1_q;
  end

  always_ff @(posedge clk_i) begin
    if (v1_q) acc_q <= acc_next;
    if (v1_q && last1_q) begin
      res_acc_o  <= acc_next;
      res_addr_q <= oaddr1_q;
    end
  end

  assign res_valid_o = res_valid_q;
  assign res_addr_o  = res_addr_q;
endmodule
